/*
 * Region set-up shared by `mesnode init`, `mesnode demo` and the admin API: regional subjects
 * from the configuration and academic years with the region's periods.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "school/school.h"

int school_seed_subjects(struct db *db, const struct mes_config *cfg, char *err, size_t errlen)
{
    for (int i = 0; i < cfg->nsubjects; i++) {
        if (db_run(db,
                   "INSERT INTO subjects (code, name, regional) "
                   "VALUES (:c, :n, 1) ON CONFLICT (code) DO UPDATE "
                   "SET name = excluded.name",
                   DB_ARGS(DB_TEXT(":c", cfg->subjects[i].code),
                           DB_TEXT(":n", cfg->subjects[i].name))) != SQLITE_DONE)
            goto fail;
    }
    return 0;
fail:
    snprintf(err, errlen, "seeding subjects: %s", db_errmsg(db));
    return -1;
}

/* Date of a period bound: months 9..12 in the first calendar year, 1..8 in the second. */
static void bound(char *out, size_t size, int first_year, int month, int day)
{
    snprintf(out, size, "%04d-%02d-%02d", month >= 9 ? first_year : first_year + 1, month, day);
}

int64_t school_create_year(struct db *db, const struct mes_config *cfg, int first_year, char *err,
                           size_t errlen)
{
    char name[32], starts[32], ends[32];
    snprintf(name, sizeof(name), "%04d/%04d", first_year, first_year + 1);
    snprintf(starts, sizeof(starts), "%04d-09-01", first_year);
    snprintf(ends, sizeof(ends), "%04d-08-31", first_year + 1);
    if (db_run(db,
               "INSERT INTO academic_years (name, starts_on, ends_on) "
               "VALUES (:n, :s, :e) ON CONFLICT (name) DO NOTHING",
               DB_ARGS(DB_TEXT(":n", name), DB_TEXT(":s", starts), DB_TEXT(":e", ends))) !=
        SQLITE_DONE)
        goto fail;
    if (db_changes(db) == 0)
        return 0;
    int64_t year = db_last_id(db);
    for (int i = 0; i < cfg->school_year.nperiods; i++) {
        const struct cfg_period *p = &cfg->school_year.periods[i];
        char ps[32], pe[32];
        bound(ps, sizeof(ps), first_year, p->start_month, p->start_day);
        bound(pe, sizeof(pe), first_year, p->end_month, p->end_day);
        if (db_run(db,
                   "INSERT INTO periods (year_id, number, name, starts_on, ends_on) "
                   "VALUES (:y, :n, :name, :s, :e)",
                   DB_ARGS(DB_INT(":y", year), DB_INT(":n", i + 1), DB_TEXT(":name", p->name),
                           DB_TEXT(":s", ps), DB_TEXT(":e", pe))) != SQLITE_DONE)
            goto fail;
    }
    if (school_seed_holidays(db, cfg, year) != 0)
        goto fail;
    return year;
fail:
    snprintf(err, errlen, "creating year %s: %s", name, db_errmsg(db));
    return -1;
}

int64_t school_ensure_year(struct db *db, const struct mes_config *cfg, time_t when, char *err,
                           size_t errlen)
{
    struct tm tm;
    localtime_r(&when, &tm);
    int first = tm.tm_year + 1900 - (tm.tm_mon + 1 < 9 ? 1 : 0);
    if (school_create_year(db, cfg, first, err, errlen) < 0)
        return -1;
    char name[32];
    snprintf(name, sizeof(name), "%04d/%04d", first, first + 1);
    int64_t id = 0;
    if (db_int(db, &id, "SELECT id FROM academic_years WHERE name = :n",
               DB_ARGS(DB_TEXT(":n", name))) == SQLITE_ROW)
        return id;
    snprintf(err, errlen, "finding year %s: %s", name, db_errmsg(db));
    return -1;
}

int64_t school_add_person(struct db *db, const char *last, const char *first, const char *middle,
                          const char *birth_date)
{
    return db_run(db,
                  "INSERT INTO persons (last_name, first_name, middle_name, "
                  "birth_date) VALUES (:l, :f, :m, :b)",
                  DB_ARGS(DB_TEXT(":l", last), DB_TEXT(":f", first),
                          DB_TEXT(":m", middle ? middle : ""), DB_TEXT(":b", birth_date))) ==
                   SQLITE_DONE
               ? db_last_id(db)
               : -1;
}

bool school_text_ok(const char *s, size_t min, size_t max)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20)
            return false; /* no control characters in names */
        if ((*p & 0xC0) != 0x80)
            chars++;
    }
    return chars >= min && chars <= max;
}

bool school_date_ok(const char *s)
{
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    return !(m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}
