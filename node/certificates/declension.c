/*
 * Russian names in the dative case and dates in words (declension.h). A word is decoded from
 * UTF-8 into code points (at most WORD_MAX), its ending compared in lower case with the rules'
 * endings, and the ending replaced; the new letters take the case of the word's last letter.
 * Words that are not Cyrillic, too long or not valid UTF-8 are copied as they are. The load is
 * one name per certificate: clarity over speed.
 */
#include "certificates/declension.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WORD_MAX 64 /* code points of one word; longer ones are left as they are */

struct word {
    uint32_t c[WORD_MAX];  /* as written */
    uint32_t lc[WORD_MAX]; /* in lower case */
    size_t n;
};

/* Decodes `len` bytes of UTF-8; false when invalid or longer than WORD_MAX characters. */
static bool decode(const char *s, size_t len, uint32_t *out, size_t *n, size_t cap)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    *n = 0;
    while (p < end) {
        uint32_t c;
        int more;
        if (*p < 0x80) {
            c = *p;
            more = 0;
        } else if ((*p & 0xE0) == 0xC0) {
            c = *p & 0x1F;
            more = 1;
        } else if ((*p & 0xF0) == 0xE0) {
            c = *p & 0x0F;
            more = 2;
        } else if ((*p & 0xF8) == 0xF0) {
            c = *p & 0x07;
            more = 3;
        } else {
            return false;
        }
        p++;
        for (int i = 0; i < more; i++, p++) {
            if (p >= end || (*p & 0xC0) != 0x80)
                return false;
            c = (c << 6) | (*p & 0x3F);
        }
        if (*n == cap)
            return false;
        out[(*n)++] = c;
    }
    return true;
}

/* Appends code point c as UTF-8 at out[*len]; false when it does not fit (a NUL kept). */
static bool put(char *out, size_t size, size_t *len, uint32_t c)
{
    char b[4];
    size_t k;
    if (c < 0x80) {
        b[0] = (char)c;
        k = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xC0 | (c >> 6));
        b[1] = (char)(0x80 | (c & 0x3F));
        k = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xE0 | (c >> 12));
        b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (char)(0x80 | (c & 0x3F));
        k = 3;
    } else {
        b[0] = (char)(0xF0 | (c >> 18));
        b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[3] = (char)(0x80 | (c & 0x3F));
        k = 4;
    }
    if (*len + k + 1 > size)
        return false;
    memcpy(out + *len, b, k);
    *len += k;
    out[*len] = '\0';
    return true;
}

static bool put_bytes(char *out, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + n + 1 > size)
        return false;
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
    return true;
}

static uint32_t lower(uint32_t c)
{
    if (c >= 0x410 && c <= 0x42F) /* А..Я */
        return c + 0x20;
    if (c == 0x401) /* Ё */
        return 0x451;
    return c;
}

static uint32_t upper(uint32_t c)
{
    if (c >= 0x430 && c <= 0x44F)
        return c - 0x20;
    if (c == 0x451)
        return 0x401;
    return c;
}

static bool is_upper(uint32_t c)
{
    return (c >= 0x410 && c <= 0x42F) || c == 0x401;
}

static bool cyrillic(uint32_t c)
{
    c = lower(c);
    return (c >= 0x430 && c <= 0x44F) || c == 0x451;
}

/* Lower-case vowels: а е ё и о у ы э ю я. */
static bool vowel(uint32_t c)
{
    static const char v[] = "аеёиоуыэюя";
    uint32_t cp[16];
    size_t n;
    decode(v, sizeof(v) - 1, cp, &n, 16);
    for (size_t i = 0; i < n; i++)
        if (cp[i] == c)
            return true;
    return false;
}

static bool one_of(uint32_t c, const char *letters)
{
    uint32_t cp[16];
    size_t n;
    if (!decode(letters, strlen(letters), cp, &n, 16))
        return false;
    for (size_t i = 0; i < n; i++)
        if (cp[i] == c)
            return true;
    return false;
}

static bool word_load(struct word *w, const char *s, size_t len)
{
    if (!decode(s, len, w->c, &w->n, WORD_MAX))
        return false;
    for (size_t i = 0; i < w->n; i++)
        w->lc[i] = lower(w->c[i]);
    return true;
}

/* True when the word, in lower case, ends with `end` (UTF-8, lower case). */
static bool ends(const struct word *w, const char *end)
{
    uint32_t e[16];
    size_t n;
    if (!decode(end, strlen(end), e, &n, 16) || n > w->n)
        return false;
    return memcmp(w->lc + w->n - n, e, n * sizeof(uint32_t)) == 0;
}

/* True when the whole word, in lower case, is one of the NULL-terminated list. */
static bool is_word(const struct word *w, const char *const *list)
{
    for (; *list; list++) {
        uint32_t e[WORD_MAX];
        size_t n;
        if (decode(*list, strlen(*list), e, &n, WORD_MAX) && n == w->n &&
            memcmp(w->lc, e, n * sizeof(uint32_t)) == 0)
            return true;
    }
    return false;
}

/* The letter `back` places before the end (0: the last), lower case; 0 when none. */
static uint32_t at_end(const struct word *w, size_t back)
{
    return back < w->n ? w->lc[w->n - 1 - back] : 0;
}

/* Writes the word with its last `drop` letters replaced by `add` (UTF-8, lower case), the new
 * letters in capitals when the last letter was one. */
static bool emit(const struct word *w, size_t drop, const char *add, char *out, size_t size,
                 size_t *len)
{
    bool caps = w->n > 1 && is_upper(w->c[w->n - 1]);
    for (size_t i = 0; i + drop < w->n; i++)
        if (!put(out, size, len, w->c[i]))
            return false;
    uint32_t a[16];
    size_t n;
    if (!decode(add, strlen(add), a, &n, 16))
        return false;
    for (size_t i = 0; i < n; i++) {
        /* A whole word replaced (Пётр → Петру) keeps its capital. */
        bool first_cap = i == 0 && drop == w->n && is_upper(w->c[0]);
        if (!put(out, size, len, caps || first_cap ? upper(a[i]) : a[i]))
            return false;
    }
    return true;
}

/* The rules: each says how many letters to drop and what to add, or returns false when the
 * word stays as it is. */
struct change {
    size_t drop;
    const char *add;
};

static bool last_male(const struct word *w, struct change *ch)
{
    uint32_t z = at_end(w, 0), y = at_end(w, 1);
    if (w->n < 2 || !cyrillic(z))
        return false;
    if (ends(w, "их") || ends(w, "ых"))
        return false; /* Черных, Седых */
    if (ends(w, "ий")) {
        if (one_of(at_end(w, 2), "гкх"))
            *ch = (struct change){2, "ому"}; /* Достоевский, Горький */
        else if (one_of(at_end(w, 2), "жшчщн"))
            *ch = (struct change){2, "ему"}; /* Рыжий, Крайний */
        else
            *ch = (struct change){1, "ю"}; /* Гурий */
        return true;
    }
    if (ends(w, "ый") || ends(w, "ой")) {
        *ch = (struct change){2, "ому"}; /* Белый, Толстой, Трубецкой */
        return true;
    }
    if (z == 0x439 /* й */ || z == 0x44C /* ь */) {
        *ch = (struct change){1, "ю"}; /* Гайдай, Гоголь */
        return true;
    }
    if (ends(w, "ия")) {
        *ch = (struct change){1, "и"}; /* Берия */
        return true;
    }
    if (z == 0x430 /* а */ || z == 0x44F /* я */) {
        if (vowel(y))
            return false;              /* Гамсахурдиа */
        *ch = (struct change){1, "е"}; /* Глинка, Зима */
        return true;
    }
    if (vowel(z) || z == 0x44A /* ъ */)
        return false; /* Шевченко, Дурново, Гёте, Руставели, Шоу */
    *ch = (struct change){0, "у"}; /* Иванов, Пушкин, Шмидт, Кузнец */
    return true;
}

static bool last_female(const struct word *w, struct change *ch)
{
    uint32_t z = at_end(w, 0), y = at_end(w, 1);
    if (w->n < 2 || !cyrillic(z))
        return false;
    if (ends(w, "ова") || ends(w, "ева") || ends(w, "ёва") || ends(w, "ина") || ends(w, "ына")) {
        *ch = (struct change){1, "ой"}; /* Иванова, Ильина */
        return true;
    }
    if (ends(w, "ая")) {
        *ch = (struct change){2, "ой"}; /* Толстая, Ковальская */
        return true;
    }
    if (ends(w, "яя")) {
        *ch = (struct change){2, "ей"}; /* Крайняя */
        return true;
    }
    if (ends(w, "ия")) {
        *ch = (struct change){1, "и"};
        return true;
    }
    if ((z == 0x430 || z == 0x44F) && !vowel(y)) {
        *ch = (struct change){1, "е"}; /* Глинка */
        return true;
    }
    return false; /* Шмидт, Черных, Шевченко, Гоголь: unchanged for a woman */
}

static bool first_male(const struct word *w, struct change *ch)
{
    uint32_t z = at_end(w, 0), y = at_end(w, 1);
    if (w->n < 2 || !cyrillic(z))
        return false;
    /* A vowel that drops out of the stem. */
    static const char *const petr[] = {"пётр", "петр", NULL}, *const pavel[] = {"павел", NULL},
                             *const lev[] = {"лев", NULL};
    if (is_word(w, petr)) {
        *ch = (struct change){w->n, "петру"};
        return true;
    }
    if (is_word(w, pavel)) {
        *ch = (struct change){2, "лу"};
        return true;
    }
    if (is_word(w, lev)) {
        *ch = (struct change){w->n, "льву"};
        return true;
    }
    if (ends(w, "ий") || z == 0x439 || z == 0x44C) {
        *ch = (struct change){1, "ю"}; /* Дмитрий, Андрей, Николай, Игорь */
        return true;
    }
    if (ends(w, "ия")) {
        *ch = (struct change){1, "и"};
        return true;
    }
    if (z == 0x430 || z == 0x44F) {
        if (vowel(y))
            return false;
        *ch = (struct change){1, "е"}; /* Никита, Илья, Кузьма */
        return true;
    }
    if (vowel(z) || z == 0x44A)
        return false;              /* Отто, Али, Хосе */
    *ch = (struct change){0, "у"}; /* Артём, Руслан, Магомед */
    return true;
}

static bool first_female(const struct word *w, struct change *ch)
{
    uint32_t z = at_end(w, 0), y = at_end(w, 1);
    if (w->n < 2 || !cyrillic(z))
        return false;
    if (ends(w, "ия")) {
        *ch = (struct change){1, "и"}; /* Мария, Виктория */
        return true;
    }
    if (z == 0x44F || (z == 0x430 && !vowel(y))) {
        *ch = (struct change){1, "е"}; /* Анна, Наталья, Ольга */
        return true;
    }
    if (z == 0x44C) {
        *ch = (struct change){1, "и"}; /* Любовь, Нинель */
        return true;
    }
    return false; /* Патимат, Кармен, Ирен */
}

static bool middle_male(const struct word *w, struct change *ch)
{
    if (ends(w, "ич")) {
        *ch = (struct change){0, "у"}; /* Сергеевич, Ильич */
        return true;
    }
    return false;
}

static bool middle_female(const struct word *w, struct change *ch)
{
    if (ends(w, "на")) {
        *ch = (struct change){1, "е"}; /* Петровна, Ильинична */
        return true;
    }
    return false;
}

typedef bool (*rule_fn)(const struct word *w, struct change *ch);

/* Declines every piece of `s` between hyphens and spaces by `rule`; copies the separators. */
static int decline(const char *s, rule_fn rule, char *out, size_t size)
{
    size_t len = 0;
    if (size == 0)
        return -1;
    out[0] = '\0';
    if (s == NULL)
        return 0;
    const char *p = s;
    while (*p) {
        size_t k = strcspn(p, "- ");
        struct word w;
        struct change ch;
        bool ok = k > 0 && rule != NULL && word_load(&w, p, k) && rule(&w, &ch) && ch.drop <= w.n;
        if (ok ? !emit(&w, ch.drop, ch.add, out, size, &len) : !put_bytes(out, size, &len, p, k))
            goto too_small;
        p += k;
        if (*p) {
            if (!put_bytes(out, size, &len, p, 1))
                goto too_small;
            p++;
        }
    }
    return 0;
too_small:
    out[0] = '\0';
    return -1;
}

int declension_last_dative(const char *last, enum declension_gender g, char *out, size_t size)
{
    return decline(last,
                   g == DECLENSION_MALE     ? last_male
                   : g == DECLENSION_FEMALE ? last_female
                                            : NULL,
                   out, size);
}

int declension_first_dative(const char *first, enum declension_gender g, char *out, size_t size)
{
    return decline(first,
                   g == DECLENSION_MALE     ? first_male
                   : g == DECLENSION_FEMALE ? first_female
                                            : NULL,
                   out, size);
}

/* «Ильхам оглы», «Нурлан улы», «Мамед кызы»: a Turkic patronymic, the father's name and a word
 * for "son" or "daughter"; neither is declined. Returns the gender it tells, or UNKNOWN. */
static enum declension_gender turkic_patronymic(const char *middle)
{
    static const char *const son[] = {"оглы", "оглу", "улы", "уулу", NULL}, *const daughter[] = {
                                                                                "кызы", "гызы",
                                                                                "кизи", NULL};
    const char *p = middle + strlen(middle);
    while (p > middle && p[-1] != ' ' && p[-1] != '-')
        p--;
    struct word w;
    if (p == middle || !word_load(&w, p, strlen(p)))
        return DECLENSION_UNKNOWN;
    return is_word(&w, son)        ? DECLENSION_MALE
           : is_word(&w, daughter) ? DECLENSION_FEMALE
                                   : DECLENSION_UNKNOWN;
}

int declension_middle_dative(const char *middle, enum declension_gender g, char *out, size_t size)
{
    if (middle != NULL && turkic_patronymic(middle) != DECLENSION_UNKNOWN)
        g = DECLENSION_UNKNOWN; /* copied as it is */
    return decline(middle,
                   g == DECLENSION_MALE     ? middle_male
                   : g == DECLENSION_FEMALE ? middle_female
                                            : NULL,
                   out, size);
}

/* The gender one word of a name tells by its ending. */
static enum declension_gender by_patronymic(const char *middle)
{
    if (middle == NULL || middle[0] == '\0')
        return DECLENSION_UNKNOWN;
    enum declension_gender t = turkic_patronymic(middle);
    if (t != DECLENSION_UNKNOWN)
        return t;
    struct word w;
    if (!word_load(&w, middle, strlen(middle)))
        return DECLENSION_UNKNOWN;
    if (ends(&w, "ович") || ends(&w, "евич") || ends(&w, "ич"))
        return DECLENSION_MALE;
    if (ends(&w, "овна") || ends(&w, "евна") || ends(&w, "ична"))
        return DECLENSION_FEMALE;
    return DECLENSION_UNKNOWN;
}

static enum declension_gender by_last_name(const char *last)
{
    struct word w;
    if (last == NULL || !word_load(&w, last, strlen(last)) || w.n < 4)
        return DECLENSION_UNKNOWN;
    static const char *const female[] = {"ова", "ева", "ёва", "ина", "ына", "ая", NULL},
                             *const male[] = {"ов", "ев", "ёв", "ин", "ын", "ий", "ый", "ой", NULL};
    for (const char *const *e = female; *e; e++)
        if (ends(&w, *e))
            return DECLENSION_FEMALE;
    for (const char *const *e = male; *e; e++)
        if (ends(&w, *e))
            return DECLENSION_MALE;
    return DECLENSION_UNKNOWN;
}

static enum declension_gender by_first_name(const char *first)
{
    struct word w;
    if (first == NULL || !word_load(&w, first, strlen(first)) || w.n < 2)
        return DECLENSION_UNKNOWN;
    /* Men's names that end as women's do, and women's that end as men's do. */
    static const char *const men_a[] = {"никита",  "илья",    "фома",  "кузьма", "лука",   "савва",
                                        "данила",  "гаврила", "иона",  "муса",   "иса",    "яхья",
                                        "мустафа", "хамза",   "игорь", "лазарь", "цезарь", NULL},
                             *const women_consonant[] = {"кармен", "ирен", "чулпан", "гульнар",
                                                         NULL};
    if (is_word(&w, men_a))
        return DECLENSION_MALE;
    if (is_word(&w, women_consonant))
        return DECLENSION_FEMALE;
    uint32_t z = at_end(&w, 0);
    if (!cyrillic(z))
        return DECLENSION_UNKNOWN;
    if (z == 0x430 || z == 0x44F || z == 0x44C) /* а, я, ь */
        return DECLENSION_FEMALE;
    if (z == 0x439) /* й */
        return DECLENSION_MALE;
    if (vowel(z))
        return DECLENSION_UNKNOWN; /* Али, Мари */
    /* -ат, -ет: Марат and Патимат, Ахмет and Маргарет. */
    if (ends(&w, "ат") || ends(&w, "ет"))
        return DECLENSION_UNKNOWN;
    return DECLENSION_MALE;
}

enum declension_gender declension_gender(const char *last, const char *first, const char *middle)
{
    enum declension_gender g = by_patronymic(middle);
    if (g != DECLENSION_UNKNOWN)
        return g;
    enum declension_gender l = by_last_name(last), f = by_first_name(first);
    if (l != DECLENSION_UNKNOWN && f != DECLENSION_UNKNOWN && l != f)
        return DECLENSION_UNKNOWN;
    return l != DECLENSION_UNKNOWN ? l : f;
}

int declension_full_dative(const char *last, const char *first, const char *middle, char *out,
                           size_t size, enum declension_gender *gender)
{
    enum declension_gender g = declension_gender(last, first, middle);
    if (gender != NULL)
        *gender = g;
    char part[256];
    size_t len = 0;
    const char *parts[3] = {last, first, middle};
    if (size == 0)
        return -1;
    out[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (parts[i] == NULL || parts[i][0] == '\0')
            continue;
        int rc = i == 0   ? declension_last_dative(parts[i], g, part, sizeof(part))
                 : i == 1 ? declension_first_dative(parts[i], g, part, sizeof(part))
                          : declension_middle_dative(parts[i], g, part, sizeof(part));
        if (rc != 0 || (len > 0 && !put_bytes(out, size, &len, " ", 1)) ||
            !put_bytes(out, size, &len, part, strlen(part))) {
            out[0] = '\0';
            return -1;
        }
    }
    return 0;
}

int declension_date_words(const char *iso, char *out, size_t size)
{
    static const char *const months[] = {"января",   "февраля", "марта",  "апреля",
                                         "мая",      "июня",    "июля",   "августа",
                                         "сентября", "октября", "ноября", "декабря"};
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    char tail;
    if (iso == NULL || strlen(iso) != 10 || iso[4] != '-' || iso[7] != '-' ||
        sscanf(iso, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1 || m < 1 || m > 12 || d < 1 ||
        d > days[m - 1] || (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)))
        return -1;
    int n = snprintf(out, size, "%d %s %d г.", d, months[m - 1], y);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}
