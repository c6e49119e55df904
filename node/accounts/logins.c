/*
 * Logins made for people who did not choose one: everyone an import or `gen` creates. A login
 * is the last name transliterated as in Russian passports (ICAO Doc 9303 as adopted in 2013:
 * Иванов -> ivanov, Щукина -> shchukina, Юлия -> iuliia) followed by the person's id, so it is
 * unique by construction and short enough to type from an activation letter: ivanov1234.
 * Only a login an administrator once chose by hand can collide; then -2, -3... are tried.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "accounts/auth.h"
#include "node.h"

/* Lowercase Cyrillic а..я (U+0430..U+044F) in order, then ё (U+0451). */
static const char *const cyr[33] = {
    "a", "b", "v", "g", "d",  "e",  "zh", "z",  "i",    "i",  "k", "l", "m", "n",  "o",  "p", "r",
    "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "ie", "y", "",  "e", "iu", "ia", "e",
};

size_t accounts_translit(const char *name, char *out, size_t size)
{
    size_t n = 0;
    if (size == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && n + 1 < size;) {
        const char *piece = NULL;
        char one[2] = {0, 0};
        unsigned cp = 0;
        if (*p < 0x80) {
            cp = *p++;
        } else if ((*p & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
            cp = ((unsigned)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
            p += 2;
        } else { /* longer sequences name nothing a login can hold */
            p++;
            while ((*p & 0xc0) == 0x80)
                p++;
            continue;
        }
        if (cp >= 0x410 && cp <= 0x42f) /* А..Я */
            cp += 0x20;
        if (cp == 0x401) /* Ё */
            cp = 0x451;
        if (cp >= 0x430 && cp <= 0x44f)
            piece = cyr[cp - 0x430];
        else if (cp == 0x451)
            piece = cyr[32];
        else if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
            one[0] = (char)cp, piece = one;
        else if (cp >= 'A' && cp <= 'Z')
            one[0] = (char)(cp + 32), piece = one;
        else if ((cp == '-' || cp == ' ') && n > 0 && out[n - 1] != '-')
            piece = "-"; /* Петров-Водкин, Мамедов оглы */
        if (piece == NULL)
            continue;
        size_t k = strlen(piece);
        if (n + k + 1 > size)
            break;
        memcpy(out + n, piece, k);
        n += k;
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    return n;
}

int accounts_make_login(const char *last_name, int64_t person_id, int attempt, char *out,
                        size_t size)
{
    char base[ACCOUNT_LOGIN_BASE + 1];
    if (accounts_translit(last_name, base, sizeof(base)) == 0)
        snprintf(base, sizeof(base), "user");
    int n = attempt <= 1 ? snprintf(out, size, "%s%lld", base, (long long)person_id)
                         : snprintf(out, size, "%s%lld-%d", base, (long long)person_id, attempt);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int64_t accounts_add_inactive(struct db *db, int64_t person_id, const char *last_name,
                              char login[ACCOUNT_LOGIN_MAX + 1])
{
    for (int attempt = 1; attempt <= 20; attempt++) {
        if (accounts_make_login(last_name, person_id, attempt, login, ACCOUNT_LOGIN_MAX + 1) != 0)
            return -1;
        int rc = db_run(db,
                        "INSERT INTO accounts (person_id, login) VALUES (:p, :l) "
                        "ON CONFLICT (login) DO NOTHING",
                        DB_ARGS(DB_INT(":p", person_id), DB_TEXT(":l", login)));
        if (rc != SQLITE_DONE)
            return -1;
        if (sqlite3_changes(db_handle(db)) == 1)
            return db_last_id(db);
    }
    return -1;
}
