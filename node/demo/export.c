/*
 * The region as a OneRoster 1.1 CSV set (`mesnode gen --export-oneroster DIR`), in the reading
 * the importer keeps to (docs/roster.md): municipalities are districts, institutions schools,
 * an academic year a schoolYear with its periods as terms, a homeroom class per class, a
 * scheduled class per teaching assignment (its course: the subject at that school in that
 * year), users for the staff, the students in a class now and their guardians, enrollments for
 * students in homerooms, teachers in scheduled classes and class teachers (primary) in
 * homerooms, demographics with birth dates and sex where the records tell it.
 *
 * sourcedIds are the local ids with a prefix, so a second export names the same records the
 * same way: district-M, org-I, year-Y, term-P, course-Y-I-S, class-C, sched-A (A a teaching
 * assignment), user-P (a person), enr-E (an enrolment), teach-A, lead-C. Every row is written
 * as the query returns it (nothing is held in memory), in one read snapshot.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "demo/demo.h"
#include "node.h"

struct out {
    FILE *f;
    char path[4200];
    char *buf;
    long rows;
};

/* The columns of each file, in the order of the OneRoster 1.1 CSV binding. */
static const char *const orgs_cols[] = {"sourcedId", "status",     "dateLastModified", "name",
                                        "type",      "identifier", "parentSourcedId",  NULL};
static const char *const sessions_cols[] = {
    "sourcedId", "status",  "dateLastModified", "title",      "type",
    "startDate", "endDate", "parentSourcedId",  "schoolYear", NULL};
static const char *const courses_cols[] = {
    "sourcedId", "status",       "dateLastModified", "schoolYearSourcedId", "title", "courseCode",
    "grades",    "orgSourcedId", "subjects",         "subjectCodes",        NULL};
static const char *const classes_cols[] = {
    "sourcedId",       "status",    "dateLastModified", "title",    "grades",
    "courseSourcedId", "classCode", "classType",        "location", "schoolSourcedId",
    "termSourcedIds",  "subjects",  "subjectCodes",     "periods",  NULL};
static const char *const users_cols[] = {"sourcedId",
                                         "status",
                                         "dateLastModified",
                                         "enabledUser",
                                         "orgSourcedIds",
                                         "role",
                                         "username",
                                         "userIds",
                                         "givenName",
                                         "familyName",
                                         "middleName",
                                         "identifier",
                                         "email",
                                         "sms",
                                         "phone",
                                         "agentSourcedIds",
                                         "grades",
                                         "password",
                                         NULL};
static const char *const enrollments_cols[] = {"sourcedId",
                                               "status",
                                               "dateLastModified",
                                               "classSourcedId",
                                               "schoolSourcedId",
                                               "userSourcedId",
                                               "role",
                                               "primary",
                                               "beginDate",
                                               "endDate",
                                               NULL};
static const char *const demographics_cols[] = {"sourcedId",
                                                "status",
                                                "dateLastModified",
                                                "birthDate",
                                                "sex",
                                                "americanIndianOrAlaskaNative",
                                                "asian",
                                                "blackOrAfricanAmerican",
                                                "nativeHawaiianOrOtherPacificIslander",
                                                "white",
                                                "demographicRaceTwoOrMoreRaces",
                                                "hispanicOrLatinoEthnicity",
                                                "countryOfBirthCode",
                                                "stateOfBirthAbbreviation",
                                                "cityOfBirth",
                                                "publicSchoolResidenceStatus",
                                                NULL};

/* One field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void field(FILE *f, const char *s)
{
    if (s == NULL || *s == '\0')
        return;
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    putc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', f);
        putc(*s, f);
    }
    putc('"', f);
}

/* A row of `n` fields (NULL or "" for an empty one). */
static void row(struct out *o, int n, const char *const *v)
{
    for (int i = 0; i < n; i++) {
        if (i > 0)
            putc(',', o->f);
        field(o->f, v[i]);
    }
    putc('\n', o->f);
    o->rows++;
}

static int count(const char *const *cols)
{
    int n = 0;
    while (cols[n])
        n++;
    return n;
}

static int open_out(struct out *o, const char *dir, const char *name, const char *const *cols,
                    char *err, size_t errlen)
{
    snprintf(o->path, sizeof(o->path), "%s/%s", dir, name);
    o->rows = 0;
    o->f = fopen(o->path, "w");
    o->buf = o->f ? malloc(1 << 20) : NULL;
    if (o->f == NULL || o->buf == NULL) {
        snprintf(err, errlen, "%s: %s", o->path, o->f ? "out of memory" : strerror(errno));
        if (o->f)
            fclose(o->f);
        o->f = NULL;
        return -1;
    }
    setvbuf(o->f, o->buf, _IOFBF, 1 << 20);
    row(o, count(cols), cols);
    o->rows = 0;
    return 0;
}

static int close_out(struct out *o, char *err, size_t errlen)
{
    if (o->f == NULL)
        return 0;
    int bad = ferror(o->f);
    bad = fclose(o->f) != 0 || bad;
    free(o->buf);
    o->f = NULL;
    o->buf = NULL;
    if (bad && err[0] == '\0')
        snprintf(err, errlen, "%s: %s", o->path, strerror(errno ? errno : EIO));
    return bad ? -1 : 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* "prefix-N" of an integer column into buf (empty when NULL). */
static const char *ref(char *buf, size_t size, const char *prefix, sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        buf[0] = '\0';
    else
        snprintf(buf, size, "%s-%lld", prefix, (long long)sqlite3_column_int64(st, i));
    return buf;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && memcmp(s + n - k, tail, k) == 0;
}

/* The sex a guardian's relation or a patronymic tells: "male", "female" or "" (unknown). */
static const char *sex_of(const char *relation, const char *middle)
{
    if (relation && strcmp(relation, "mother") == 0)
        return "female";
    if (relation && strcmp(relation, "father") == 0)
        return "male";
    if (middle == NULL)
        return "";
    if (ends_with(middle, "ич") || ends_with(middle, "оглы") || ends_with(middle, "улы"))
        return "male";
    if (ends_with(middle, "на") || ends_with(middle, "кызы") || ends_with(middle, "гызы"))
        return "female";
    return "";
}

static int orgs(struct db *db, const char *dir, char *err, size_t errlen)
{
    struct out o;
    if (open_out(&o, dir, "orgs.csv", orgs_cols, err, errlen) != 0)
        return -1;
    char a[32], b[32];
    int rc;
    sqlite3_stmt *st = db_query(db, "SELECT id, name FROM municipalities ORDER BY id", NULL);
    while (db_next(st, &rc))
        row(&o, 7,
            (const char *const[]){ref(a, sizeof(a), "district", st, 0), "", "", col(st, 1),
                                  "district", "", ""});
    if (rc == SQLITE_DONE) {
        st = db_query(db,
                      "SELECT id, name, short_name, municipality_id FROM institutions "
                      "ORDER BY id",
                      NULL);
        while (db_next(st, &rc))
            row(&o, 7,
                (const char *const[]){ref(a, sizeof(a), "org", st, 0), "", "", col(st, 1), "school",
                                      col(st, 2), ref(b, sizeof(b), "district", st, 3)});
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "orgs: %s", db_errmsg(db));
    return close_out(&o, err, errlen) != 0 || rc != SQLITE_DONE ? -1 : 0;
}

static int sessions(struct db *db, const char *dir, char *err, size_t errlen)
{
    struct out o;
    if (open_out(&o, dir, "academicSessions.csv", sessions_cols, err, errlen) != 0)
        return -1;
    char a[32], b[32];
    int rc;
    sqlite3_stmt *st = db_query(db,
                                "SELECT id, name, starts_on, ends_on, substr(ends_on, 1, 4) "
                                "FROM academic_years ORDER BY id",
                                NULL);
    while (db_next(st, &rc))
        row(&o, 9,
            (const char *const[]){ref(a, sizeof(a), "year", st, 0), "", "", col(st, 1),
                                  "schoolYear", col(st, 2), col(st, 3), "", col(st, 4)});
    if (rc == SQLITE_DONE) {
        st = db_query(db,
                      "SELECT p.id, p.name, p.starts_on, p.ends_on, p.year_id, "
                      "substr(y.ends_on, 1, 4) FROM periods p JOIN academic_years y ON "
                      "y.id = p.year_id ORDER BY p.id",
                      NULL);
        while (db_next(st, &rc))
            row(&o, 9,
                (const char *const[]){ref(a, sizeof(a), "term", st, 0), "", "", col(st, 1), "term",
                                      col(st, 2), col(st, 3), ref(b, sizeof(b), "year", st, 4),
                                      col(st, 5)});
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "academic sessions: %s", db_errmsg(db));
    return close_out(&o, err, errlen) != 0 || rc != SQLITE_DONE ? -1 : 0;
}

static int courses(struct db *db, const char *dir, char *err, size_t errlen)
{
    struct out o;
    if (open_out(&o, dir, "courses.csv", courses_cols, err, errlen) != 0)
        return -1;
    char a[64], b[32], c[32];
    int rc;
    sqlite3_stmt *st =
        db_query(db,
                 "SELECT DISTINCT c.year_id, c.institution_id, s.id, s.code, s.name FROM "
                 "teaching_assignments t JOIN classes c ON c.id = t.class_id JOIN subjects s ON "
                 "s.id = t.subject_id ORDER BY c.year_id, c.institution_id, s.id",
                 NULL);
    while (db_next(st, &rc)) {
        snprintf(a, sizeof(a), "course-%lld-%lld-%lld", (long long)sqlite3_column_int64(st, 0),
                 (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2));
        row(&o, 10,
            (const char *const[]){a, "", "", ref(b, sizeof(b), "year", st, 0), col(st, 4),
                                  col(st, 3), "", ref(c, sizeof(c), "org", st, 1), col(st, 4),
                                  col(st, 3)});
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "courses: %s", db_errmsg(db));
    return close_out(&o, err, errlen) != 0 || rc != SQLITE_DONE ? -1 : 0;
}

/* The terms of each class's year ("term-1,term-2..."), or the year when it has none. */
#define CLASS_TERMS                                                                                \
    "coalesce((SELECT group_concat('term-' || p.id, ',') FROM periods p WHERE p.year_id = "        \
    "c.year_id), 'year-' || c.year_id)"

static int classes(struct db *db, const char *dir, char *err, size_t errlen)
{
    struct out o;
    if (open_out(&o, dir, "classes.csv", classes_cols, err, errlen) != 0)
        return -1;
    char a[32], b[32], grade[8], code[64], title[256], course[64];
    int rc;
    sqlite3_stmt *st = db_query(db,
                                "SELECT c.id, c.grade, c.letter, c.institution_id, " CLASS_TERMS
                                " FROM classes c ORDER BY c.id",
                                NULL);
    while (db_next(st, &rc)) {
        snprintf(grade, sizeof(grade), "%02d", sqlite3_column_int(st, 1));
        snprintf(code, sizeof(code), "%d%s", sqlite3_column_int(st, 1), col(st, 2));
        row(&o, 14,
            (const char *const[]){ref(a, sizeof(a), "class", st, 0), "", "", code, grade, "", code,
                                  "homeroom", "", ref(b, sizeof(b), "org", st, 3), col(st, 4), "",
                                  "", ""});
    }
    if (rc == SQLITE_DONE) {
        st = db_query(db,
                      "SELECT t.id, c.grade, c.letter, c.institution_id, " CLASS_TERMS
                      ", c.year_id, s.id, s.code, s.name, g.name FROM teaching_assignments t "
                      "JOIN classes c ON c.id = t.class_id JOIN subjects s ON s.id = "
                      "t.subject_id LEFT JOIN groups g ON g.id = t.group_id ORDER BY t.id",
                      NULL);
        while (db_next(st, &rc)) {
            snprintf(grade, sizeof(grade), "%02d", sqlite3_column_int(st, 1));
            snprintf(code, sizeof(code), "%d%s", sqlite3_column_int(st, 1), col(st, 2));
            if (sqlite3_column_type(st, 9) == SQLITE_NULL)
                snprintf(title, sizeof(title), "%s %s", code, col(st, 8));
            else
                snprintf(title, sizeof(title), "%s %s (%s)", code, col(st, 8), col(st, 9));
            snprintf(course, sizeof(course), "course-%lld-%lld-%lld",
                     (long long)sqlite3_column_int64(st, 5), (long long)sqlite3_column_int64(st, 3),
                     (long long)sqlite3_column_int64(st, 6));
            row(&o, 14,
                (const char *const[]){ref(a, sizeof(a), "sched", st, 0), "", "", title, grade,
                                      course, code, "scheduled", "",
                                      ref(b, sizeof(b), "org", st, 3), col(st, 4), col(st, 8),
                                      col(st, 7), ""});
        }
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "classes: %s", db_errmsg(db));
    return close_out(&o, err, errlen) != 0 || rc != SQLITE_DONE ? -1 : 0;
}

/* Who works at a school: the staff, and anyone who teaches or leads a class. */
#define WORKS                                                                                      \
    "(EXISTS (SELECT 1 FROM staff s WHERE s.person_id = p.id) OR EXISTS (SELECT 1 FROM "           \
    "teaching_assignments t WHERE t.teacher_id = p.id) OR EXISTS (SELECT 1 FROM classes k "        \
    "WHERE k.class_teacher_id = p.id))"
#define STUDIES                                                                                    \
    "EXISTS (SELECT 1 FROM enrollments e WHERE e.student_id = p.id AND e.left_on IS NULL)"
/* A person's children who are students now, as agents. */
#define CHILDREN                                                                                   \
    "(SELECT group_concat('user-' || g.student_id, ',') FROM guardians g WHERE g.guardian_id = "   \
    "p.id AND EXISTS (SELECT 1 FROM enrollments e WHERE e.student_id = g.student_id AND "          \
    "e.left_on IS NULL))"

/* Columns every users query returns first: 0 id, 1 last, 2 first, 3 middle, 4 birth date,
 * 5 login, 6 disabled, then 7 orgs, 8 role hint, 9 agents, 10 grade. */
static const char *const user_sql[3] = {
    /* Staff: administrator with a school admin grant, teacher when they teach or lead a
     * class or are employed as teachers, aide otherwise. */
    "SELECT p.id, p.last_name, p.first_name, p.middle_name, p.birth_date, a.login, "
    "a.disabled, (SELECT group_concat('org-' || i, ',') FROM (SELECT s.institution_id AS i "
    "FROM staff s WHERE s.person_id = p.id UNION SELECT c.institution_id FROM "
    "teaching_assignments t JOIN classes c ON c.id = t.class_id WHERE t.teacher_id = p.id "
    "UNION SELECT c.institution_id FROM classes c WHERE c.class_teacher_id = p.id)), CASE "
    "WHEN EXISTS (SELECT 1 FROM role_grants r WHERE r.account_id = a.id AND r.role = "
    "'school_admin') THEN 'administrator' WHEN EXISTS (SELECT 1 FROM teaching_assignments t "
    "WHERE t.teacher_id = p.id) OR EXISTS (SELECT 1 FROM classes c WHERE c.class_teacher_id = "
    "p.id) OR EXISTS (SELECT 1 FROM staff s WHERE s.person_id = p.id AND s.position LIKE "
    "'учитель%') THEN 'teacher' ELSE 'aide' END, " CHILDREN ", NULL FROM persons p LEFT JOIN "
    "accounts a ON a.person_id = p.id WHERE p.id IN (SELECT person_id FROM staff UNION SELECT "
    "teacher_id FROM teaching_assignments UNION SELECT class_teacher_id FROM classes WHERE "
    "class_teacher_id IS NOT NULL) ORDER BY p.id",
    /* Students in a class now. */
    "SELECT p.id, p.last_name, p.first_name, p.middle_name, p.birth_date, a.login, "
    "a.disabled, 'org-' || c.institution_id, 'student', (SELECT group_concat('user-' || "
    "g.guardian_id, ',') FROM guardians g WHERE g.student_id = p.id), c.grade FROM "
    "enrollments e JOIN persons p ON p.id = e.student_id JOIN classes c ON c.id = e.class_id "
    "LEFT JOIN accounts a ON a.person_id = p.id WHERE e.left_on IS NULL AND NOT " WORKS
    " ORDER BY e.student_id",
    /* Guardians of students in a class now: parent, or guardian when every link says so. */
    "SELECT p.id, p.last_name, p.first_name, p.middle_name, p.birth_date, a.login, "
    "a.disabled, (SELECT group_concat(DISTINCT 'org-' || c.institution_id) FROM guardians g "
    "JOIN enrollments e ON e.student_id = g.student_id AND e.left_on IS NULL JOIN classes c "
    "ON c.id = e.class_id WHERE g.guardian_id = p.id), (SELECT CASE WHEN min(g.relation) = "
    "'guardian' AND max(g.relation) = 'guardian' THEN 'guardian' ELSE coalesce(min(CASE WHEN "
    "g.relation IN ('mother', 'father') THEN g.relation END), 'parent') END FROM guardians g "
    "WHERE g.guardian_id = p.id), " CHILDREN ", NULL FROM (SELECT DISTINCT guardian_id AS gid "
    "FROM guardians) JOIN persons p ON p.id = gid LEFT JOIN accounts a ON a.person_id = p.id "
    "WHERE " CHILDREN " IS NOT NULL AND NOT " STUDIES " AND NOT " WORKS " ORDER BY p.id",
};

static int users(struct db *db, const char *dir,
                 void (*progress)(const char *stage, long done, long total), char *err,
                 size_t errlen)
{
    struct out o, dem;
    if (open_out(&o, dir, "users.csv", users_cols, err, errlen) != 0)
        return -1;
    if (open_out(&dem, dir, "demographics.csv", demographics_cols, err, errlen) != 0) {
        close_out(&o, err, errlen);
        return -1;
    }
    int64_t total = 0;
    int rc = db_int(db, &total, "SELECT count(*) FROM persons", NULL) == SQLITE_ROW ? SQLITE_DONE
                                                                                    : SQLITE_ERROR;
    char id[32], grade[8];
    for (int q = 0; q < 3 && rc == SQLITE_DONE; q++) {
        sqlite3_stmt *st = db_query(db, user_sql[q], NULL);
        while (db_next(st, &rc)) {
            const char *hint = col(st, 8), *role = hint, *relation = NULL;
            if (q == 2) {
                relation = hint;
                role = strcmp(hint, "guardian") == 0 ? "guardian" : "parent";
            }
            grade[0] = '\0';
            if (sqlite3_column_type(st, 10) != SQLITE_NULL)
                snprintf(grade, sizeof(grade), "%02d", sqlite3_column_int(st, 10));
            ref(id, sizeof(id), "user", st, 0);
            row(&o, 18,
                (const char *const[]){id, "", "", sqlite3_column_int(st, 6) ? "false" : "true",
                                      col(st, 7), role, col(st, 5), "", col(st, 2), col(st, 1),
                                      col(st, 3), "", "", "", "", col(st, 9), grade, ""});
            row(&dem, 16,
                (const char *const[]){id, "", "", col(st, 4), sex_of(relation, col(st, 3)), "", "",
                                      "", "", "", "", "", "", "", "", ""});
            if (progress && o.rows % 20000 == 0)
                progress("users", o.rows, (long)total);
        }
    }
    if (progress)
        progress("users", (long)total, (long)total);
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "users: %s", db_errmsg(db));
    int closed = close_out(&o, err, errlen);
    closed |= close_out(&dem, err, errlen);
    return closed != 0 || rc != SQLITE_DONE ? -1 : 0;
}

static int enrollments(struct db *db, const char *dir, char *err, size_t errlen)
{
    struct out o;
    if (open_out(&o, dir, "enrollments.csv", enrollments_cols, err, errlen) != 0)
        return -1;
    static const struct {
        const char *prefix, *class_prefix, *role, *primary, *sql;
    } kinds[] = {
        {"enr", "class", "student", "false",
         "SELECT e.id, e.class_id, c.institution_id, e.student_id, e.enrolled_on FROM "
         "enrollments e JOIN classes c ON c.id = e.class_id WHERE e.left_on IS NULL ORDER BY "
         "e.id"},
        {"teach", "sched", "teacher", "false",
         "SELECT t.id, t.id, c.institution_id, t.teacher_id, NULL FROM teaching_assignments t "
         "JOIN classes c ON c.id = t.class_id ORDER BY t.id"},
        {"lead", "class", "teacher", "true",
         "SELECT c.id, c.id, c.institution_id, c.class_teacher_id, NULL FROM classes c WHERE "
         "c.class_teacher_id IS NOT NULL ORDER BY c.id"},
    };
    char a[32], b[32], c[32], u[32];
    int rc = SQLITE_DONE;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]) && rc == SQLITE_DONE; k++) {
        sqlite3_stmt *st = db_query(db, kinds[k].sql, NULL);
        while (db_next(st, &rc))
            row(&o, 10,
                (const char *const[]){ref(a, sizeof(a), kinds[k].prefix, st, 0), "", "",
                                      ref(b, sizeof(b), kinds[k].class_prefix, st, 1),
                                      ref(c, sizeof(c), "org", st, 2),
                                      ref(u, sizeof(u), "user", st, 3), kinds[k].role,
                                      kinds[k].primary, col(st, 4), ""});
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "enrollments: %s", db_errmsg(db));
    return close_out(&o, err, errlen) != 0 || rc != SQLITE_DONE ? -1 : 0;
}

static int manifest(const char *dir, char *err, size_t errlen)
{
    static const char *const files[][2] = {
        {"file.academicSessions", "bulk"},
        {"file.categories", "absent"},
        {"file.classes", "bulk"},
        {"file.classResources", "absent"},
        {"file.courses", "bulk"},
        {"file.courseResources", "absent"},
        {"file.demographics", "bulk"},
        {"file.enrollments", "bulk"},
        {"file.lineItems", "absent"},
        {"file.orgs", "bulk"},
        {"file.resources", "absent"},
        {"file.results", "absent"},
        {"file.users", "bulk"},
        {"source.systemName", "MES regional node"},
        {"source.systemCode", "mesnode"},
    };
    struct out o;
    if (open_out(&o, dir, "manifest.csv", (const char *const[]){"propertyName", "value", NULL}, err,
                 errlen) != 0)
        return -1;
    row(&o, 2, (const char *const[]){"manifest.version", "1.0"});
    row(&o, 2, (const char *const[]){"oneroster.version", "1.1"});
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        row(&o, 2, files[i]);
    return close_out(&o, err, errlen);
}

int demo_export_oneroster(struct node *n, const char *dir,
                          void (*progress)(const char *stage, long done, long total), char *err,
                          size_t errlen)
{
    err[0] = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    struct db *db = db_open(n->db_path, &n->cfg, err, errlen);
    if (db == NULL)
        return -1;
    int rc = -1;
    if (db_begin_read(db) != SQLITE_OK) {
        snprintf(err, errlen, "reading the region: %s", db_errmsg(db));
    } else if (orgs(db, dir, err, errlen) == 0 && sessions(db, dir, err, errlen) == 0 &&
               courses(db, dir, err, errlen) == 0 && classes(db, dir, err, errlen) == 0 &&
               users(db, dir, progress, err, errlen) == 0 &&
               enrollments(db, dir, err, errlen) == 0 && manifest(dir, err, errlen) == 0) {
        rc = 0;
    }
    db_rollback(db);
    db_close(db);
    return rc;
}
