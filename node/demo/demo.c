/*
 * The demo region (see demo.h). Deterministic: the same names and numbers on every machine,
 * so tests and the README can rely on them. Written in one transaction.
 */
#include "demo/demo.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts/auth.h"
#include "journal/journal.h"
#include "node.h"
#include "school/school.h"

static const char *const surnames[] = {
    "Иванов",      "Смирнов",   "Кузнецов",   "Попов",    "Васильев", "Петров",   "Соколов",
    "Михайлов",    "Новиков",   "Фёдоров",    "Морозов",  "Волков",   "Алексеев", "Лебедев",
    "Семёнов",     "Егоров",    "Павлов",     "Козлов",   "Степанов", "Николаев", "Орлов",
    "Андреев",     "Макаров",   "Никитин",    "Захаров",  "Зайцев",   "Соловьёв", "Борисов",
    "Яковлев",     "Григорьев", "Романов",    "Воробьёв", "Сергеев",  "Кузьмин",  "Фролов",
    "Александров", "Дмитриев",  "Королёв",    "Гусев",    "Киселёв",  "Ильин",    "Максимов",
    "Поляков",     "Сорокин",   "Виноградов", "Ковалёв",  "Белов",    "Медведев", "Антонов",
    "Тарасов",     "Жуков",     "Баранов",    "Филиппов", "Комаров",  "Давыдов",  "Беляев"};
static const char *const boys[] = {"Александр", "Максим",  "Михаил", "Артём",   "Иван",
                                   "Дмитрий",   "Кирилл",  "Матвей", "Тимофей", "Роман",
                                   "Егор",      "Арсений", "Марк",   "Лев",     "Даниил",
                                   "Никита",    "Фёдор",   "Илья",   "Андрей",  "Степан"};
static const char *const girls[] = {"София",     "Анна",      "Мария",   "Ева",        "Виктория",
                                    "Полина",    "Алиса",     "Варвара", "Александра", "Василиса",
                                    "Анастасия", "Дарья",     "Ксения",  "Вероника",   "Милана",
                                    "Екатерина", "Елизавета", "Арина",   "Ульяна",     "Таисия"};
/* Fathers' names as patronymics: masculine and feminine forms. */
static const char *const patronymics[][2] = {
    {"Александрович", "Александровна"}, {"Сергеевич", "Сергеевна"},
    {"Дмитриевич", "Дмитриевна"},       {"Андреевич", "Андреевна"},
    {"Алексеевич", "Алексеевна"},       {"Михайлович", "Михайловна"},
    {"Игоревич", "Игоревна"},           {"Владимирович", "Владимировна"},
    {"Николаевич", "Николаевна"},       {"Евгеньевич", "Евгеньевна"},
    {"Олегович", "Олеговна"},           {"Павлович", "Павловна"}};
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A synthetic region's size. The demo scale is the three named schools only; the others add
 * generated schools (each grade 1-11 with 1..max_parallel classes) across municipalities. */
struct scale {
    const char *name;
    int municipalities;
    int schools;          /* generated, besides the demo's three */
    int parallel_percent; /* chance of a second class in a grade */
    const char *about;
};

static const struct scale scales[] = {
    {"demo", 0, 0, 0, "three schools and the demo logins"},
    {"small", 2, 3, 20, "six schools, for tests"},
    {"medium", 10, 100, 22, "about 30,000 students"},
    {"dagestan", 52, 1400, 31, "1,403 schools, about 470,000 students (Dagestan)"},
};

struct demo {
    struct db *db;
    const struct mes_config *cfg;
    const struct scale *scale;
    void (*progress)(const char *stage, long done, long total);
    unsigned long long rng;
    char hash[crypto_pwhash_STRBYTES];
    int64_t year;
    int first_year;
    char err[512];
};

static unsigned pick(struct demo *d, unsigned n)
{
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 7;
    d->rng ^= d->rng << 17;
    return (unsigned)(d->rng % n);
}

/* A random person of the given sex born in `birth_year`, sharing `surname` (masculine form)
 * when given. Returns the id or -1. */
static int64_t person(struct demo *d, int female, const char *surname, int birth_year)
{
    const char *last = surname ? surname : surnames[pick(d, N(surnames))];
    char lastbuf[64];
    snprintf(lastbuf, sizeof(lastbuf), "%s%s", last, female ? "а" : "");
    char birth[16];
    snprintf(birth, sizeof(birth), "%04d-%02u-%02u", birth_year, 1 + pick(d, 12), 1 + pick(d, 28));
    return school_add_person(d->db, lastbuf,
                             female ? girls[pick(d, N(girls))] : boys[pick(d, N(boys))],
                             patronymics[pick(d, N(patronymics))][female ? 1 : 0], birth);
}

static int64_t named(struct demo *d, const char *last, const char *first, const char *middle,
                     const char *birth)
{
    return school_add_person(d->db, last, first, middle, birth);
}

static int64_t login_for(struct demo *d, int64_t person_id, const char *login)
{
    return accounts_add(d->db, person_id, login, d->hash);
}

static int64_t exec_id(struct demo *d, sqlite3_stmt *st)
{
    return st && db_exec_stmt(st) == SQLITE_DONE ? db_last_id(d->db) : -1;
}

static int64_t municipality(struct demo *d, const char *name)
{
    sqlite3_stmt *st = db_stmt(d->db, "INSERT INTO municipalities (name) VALUES (:n)");
    if (st)
        db_bind_text(st, ":n", name);
    return exec_id(d, st);
}

static int64_t institution(struct demo *d, int64_t mun, const char *name, const char *short_name,
                           const char *address)
{
    sqlite3_stmt *st = db_stmt(d->db, "INSERT INTO institutions (municipality_id, kind, name, "
                                      "short_name, address) VALUES (:m, 'school', :n, :s, :a)");
    if (st) {
        db_bind_int(st, ":m", mun);
        db_bind_text(st, ":n", name);
        db_bind_text(st, ":s", short_name);
        db_bind_text(st, ":a", address);
    }
    return exec_id(d, st);
}

static int64_t class_(struct demo *d, int64_t inst, int grade, const char *letter)
{
    sqlite3_stmt *st = db_stmt(d->db, "INSERT INTO classes (institution_id, year_id, grade, "
                                      "letter) VALUES (:i, :y, :g, :l)");
    if (st) {
        db_bind_int(st, ":i", inst);
        db_bind_int(st, ":y", d->year);
        db_bind_int(st, ":g", grade);
        db_bind_text(st, ":l", letter);
    }
    return exec_id(d, st);
}

static int set_class_teacher(struct demo *d, int64_t cls, int64_t teacher)
{
    sqlite3_stmt *st = db_stmt(d->db, "UPDATE classes SET class_teacher_id = :t WHERE id = :c");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":t", teacher);
    db_bind_int(st, ":c", cls);
    return db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
}

static int staff(struct demo *d, int64_t p, int64_t inst, const char *position)
{
    sqlite3_stmt *st = db_stmt(d->db, "INSERT INTO staff (person_id, institution_id, position) "
                                      "VALUES (:p, :i, :pos)");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":p", p);
    db_bind_int(st, ":i", inst);
    db_bind_text(st, ":pos", position);
    return db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
}

static int64_t subject(struct demo *d, const char *code)
{
    sqlite3_stmt *st = db_stmt(d->db, "SELECT id FROM subjects WHERE code = :c");
    if (st == NULL)
        return -1;
    db_bind_text(st, ":c", code);
    int64_t id = db_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return id;
}

static int assign(struct demo *d, int64_t teacher, int64_t cls, const char *code)
{
    int64_t subj = subject(d, code);
    sqlite3_stmt *st = db_stmt(d->db, "INSERT INTO teaching_assignments (teacher_id, class_id, "
                                      "subject_id) VALUES (:t, :c, :s) ON CONFLICT DO NOTHING");
    if (st == NULL || subj < 0)
        return -1;
    db_bind_int(st, ":t", teacher);
    db_bind_int(st, ":c", cls);
    db_bind_int(st, ":s", subj);
    return db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
}

static int enroll(struct demo *d, int64_t student, int64_t cls)
{
    sqlite3_stmt *st = db_stmt(d->db, "INSERT INTO enrollments (student_id, class_id, "
                                      "enrolled_on) VALUES (:s, :c, :on)");
    if (st == NULL)
        return -1;
    char on[16];
    snprintf(on, sizeof(on), "%04d-09-01", d->first_year);
    db_bind_int(st, ":s", student);
    db_bind_int(st, ":c", cls);
    db_bind_text(st, ":on", on);
    return db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
}

static int guardian(struct demo *d, int64_t parent, int64_t child, const char *relation)
{
    sqlite3_stmt *st = db_stmt(d->db, "INSERT INTO guardians (guardian_id, student_id, relation) "
                                      "VALUES (:g, :s, :r)");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":g", parent);
    db_bind_int(st, ":s", child);
    db_bind_text(st, ":r", relation);
    return db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
}

/* Subjects taught in a grade (a simplified federal curriculum). */
static const char *const *curriculum(int grade)
{
    static const char *const primary[] = {"rus", "lit_read", "math", "world", "eng",
                                          "art", "music",    "tech", "pe",    NULL};
    static const char *const middle[] = {"rus", "lit",   "math", "eng",  "history", "bio",
                                         "geo", "music", "art",  "tech", "pe",      NULL};
    static const char *const senior[] = {"rus", "lit",     "algebra", "geometry", "prob", "cs",
                                         "eng", "history", "social",  "phys",     "chem", "bio",
                                         "geo", "pe",      "obzr",    NULL};
    return grade <= 4 ? primary : grade <= 6 ? middle : senior;
}

/* Fills a class with `size` students, each with one or two parents; returns 0 or -1. */
static int fill_class(struct demo *d, int64_t cls, int grade, int size)
{
    int birth_year = d->first_year - 6 - grade;
    for (int i = 0; i < size; i++) {
        int female = (int)pick(d, 2);
        const char *surname = surnames[pick(d, N(surnames))];
        int64_t child = person(d, female, surname, birth_year);
        int64_t mother = person(d, 1, surname, birth_year - 25 - (int)pick(d, 10));
        if (child < 0 || mother < 0 || enroll(d, child, cls) ||
            guardian(d, mother, child, "mother"))
            return -1;
        if (pick(d, 3) > 0) {
            int64_t father = person(d, 0, surname, birth_year - 27 - (int)pick(d, 10));
            if (father < 0 || guardian(d, father, child, "father"))
                return -1;
        }
    }
    return 0;
}

/* Weekly hours of a subject and the family of subjects one teacher teaches (a mathematics
 * teacher takes algebra and geometry too). */
static const struct {
    const char *code;
    int hours, family;
} subject_load[] = {
    {"rus", 4, 0},      {"lit", 3, 0},   {"lit_read", 4, 0}, {"math", 5, 1},  {"algebra", 3, 1},
    {"geometry", 2, 1}, {"prob", 1, 1},  {"cs", 1, 2},       {"eng", 3, 3},   {"history", 2, 4},
    {"social", 1, 4},   {"phys", 2, 5},  {"chem", 2, 6},     {"bio", 1, 7},   {"geo", 1, 8},
    {"world", 2, 7},    {"music", 1, 9}, {"art", 1, 9},      {"tech", 1, 10}, {"pe", 2, 11},
    {"obzr", 1, 11},
};
enum { FAMILIES = 12, MAX_LOAD = 22, MAX_STAFF = 160 };

/* What a primary-class teacher teaches in their own class; the rest comes from specialists. */
static bool primary_core(const char *code)
{
    return !strcmp(code, "rus") || !strcmp(code, "lit_read") || !strcmp(code, "math") ||
           !strcmp(code, "world") || !strcmp(code, "art") || !strcmp(code, "tech");
}

/* One school: its classes; a primary teacher for each class of grades 1-4; subject teachers
 * who each take classes of their subject family up to a full load (MAX_LOAD hours a week), as
 * schools staff themselves; a class teacher for every class, none leading two. `grades` and
 * `letters` list its classes; returns 0 or -1. */
static int school(struct demo *d, int64_t inst, const int *grades, const char *const *letters,
                  int nclasses, int64_t *classes_out)
{
    int64_t pool[FAMILIES] = {0}, staff_ids[MAX_STAFF];
    int load[FAMILIES] = {0}, nstaff = 0;
    bool leads[MAX_STAFF] = {false};
    for (int c = 0; c < nclasses; c++) {
        int64_t cls = class_(d, inst, grades[c], letters[c]);
        if (cls < 0 || fill_class(d, cls, grades[c], 18 + (int)pick(d, 8)))
            return -1;
        classes_out[c] = cls;
        int64_t primary = 0, lead = 0;
        for (const char *const *s = curriculum(grades[c]); *s; s++) {
            size_t k = 0;
            while (k < N(subject_load) && strcmp(subject_load[k].code, *s) != 0)
                k++;
            if (k == N(subject_load))
                return -1;
            int f = subject_load[k].family, h = subject_load[k].hours;
            int64_t t;
            bool fresh = false;
            if (grades[c] <= 4 && primary_core(*s)) {
                if (primary == 0) {
                    primary = person(d, 1, NULL, 1965 + (int)pick(d, 30));
                    fresh = true;
                }
                t = primary;
            } else {
                if (pool[f] == 0 || load[f] + h > MAX_LOAD) {
                    pool[f] = person(d, pick(d, 4) > 0, NULL, 1965 + (int)pick(d, 30));
                    load[f] = 0;
                    fresh = true;
                }
                load[f] += h;
                t = pool[f];
            }
            if (t < 0 || nstaff == MAX_STAFF)
                return -1;
            if (fresh) {
                if (staff(d, t, inst, primary == t ? "учитель начальных классов" : "учитель"))
                    return -1;
                staff_ids[nstaff++] = t;
            }
            if (assign(d, t, cls, *s))
                return -1;
            /* The class teacher: the primary teacher, or the first subject teacher of the
             * class who leads no other class yet. */
            for (int i = 0; lead == 0 && i < nstaff; i++)
                if (staff_ids[i] == t && !leads[i] && (primary == 0 || t == primary)) {
                    leads[i] = true;
                    lead = t;
                }
        }
        if (lead == 0) { /* every teacher of the class already leads one: take one anyway */
            for (int i = nstaff - 1; i >= 0 && lead == 0; i--)
                lead = staff_ids[i];
        }
        if (set_class_teacher(d, cls, lead))
            return -1;
    }
    return 0;
}

/* Large scales commit as they go, so the write-ahead log stays small: a failed run leaves a
 * partial region, to be generated again in an empty directory. */
static int checkpoint(struct demo *d)
{
    if (d->scale->schools == 0)
        return 0;
    return db_commit(d->db) == SQLITE_OK && db_begin_write(d->db) == SQLITE_OK ? 0 : -1;
}

/* Generated schools of the scale, spread over its municipalities. */
static int generated_schools(struct demo *d)
{
    static const char *const streets[] = {"Ленина",      "Гагарина", "Советская", "Школьная",
                                          "Мира",        "Пушкина",  "Садовая",   "Молодёжная",
                                          "Центральная", "Лесная"};
    const struct scale *sc = d->scale;
    int64_t mun[64];
    for (int m = 0; m < sc->municipalities && m < 64; m++) {
        char name[96];
        snprintf(name, sizeof(name), "Муниципальный район № %d", m + 1);
        if ((mun[m] = municipality(d, name)) < 0)
            return -1;
    }
    static const char *const letters[] = {"А", "Б", "В"};
    for (int i = 0; i < sc->schools; i++) {
        char name[200], short_name[64], address[96];
        int number = i + 4;
        snprintf(name, sizeof(name),
                 "Муниципальное бюджетное общеобразовательное учреждение "
                 "«Средняя общеобразовательная школа № %d»",
                 number);
        snprintf(short_name, sizeof(short_name), "Школа № %d", number);
        snprintf(address, sizeof(address), "ул. %s, %u", streets[pick(d, 10)], 1 + pick(d, 120));
        int64_t inst = institution(d, mun[i % sc->municipalities], name, short_name, address);
        if (inst < 0)
            return -1;
        int grades[33];
        const char *ls[33];
        int n = 0;
        for (int g = 1; g <= 11; g++) {
            int parallel = 1 + ((int)pick(d, 100) < sc->parallel_percent) +
                           ((int)pick(d, 100) < sc->parallel_percent / 4);
            for (int k = 0; k < parallel; k++) {
                grades[n] = g;
                ls[n++] = letters[k];
            }
        }
        int64_t classes[33];
        if (staff(d, person(d, 1, NULL, 1960 + (int)pick(d, 30)), inst, "директор") ||
            school(d, inst, grades, ls, n, classes))
            return -1;
        if (d->progress && (i % 10 == 9 || i + 1 == sc->schools))
            d->progress("schools and people", i + 1, sc->schools);
        if (i % 100 == 99 && checkpoint(d) != 0)
            return -1;
    }
    return 0;
}

static int build(struct demo *d)
{
    int64_t central = municipality(d, "Городской округ «Центральный»");
    int64_t north = municipality(d, "Северный муниципальный район");
    if (central < 0 || north < 0)
        return -1;
    int64_t s1 = institution(d, central,
                             "Муниципальное бюджетное общеобразовательное учреждение "
                             "«Средняя общеобразовательная школа № 1»",
                             "Школа № 1", "ул. Ленина, 12");
    int64_t s2 = institution(d, central,
                             "Муниципальное автономное общеобразовательное "
                             "учреждение «Гимназия № 2»",
                             "Гимназия № 2", "пр. Мира, 40");
    int64_t s3 = institution(d, north,
                             "Муниципальное бюджетное общеобразовательное учреждение "
                             "«Лицей № 3»",
                             "Лицей № 3", "ул. Школьная, 5");
    if (s1 < 0 || s2 < 0 || s3 < 0)
        return -1;

    /* The named demo people of school 1 come first so their ids are stable. */
    int64_t admin = named(d, "Орлова", "Светлана", "Викторовна", "1975-03-14");
    int64_t sadmin = named(d, "Петров", "Андрей", "Николаевич", "1970-11-02");
    int64_t teacher = named(d, "Смирнова", "Ольга", "Петровна", "1982-05-21");
    int64_t cteacher = named(d, "Кузнецова", "Марина", "Игоревна", "1979-09-09");
    int64_t medic = named(d, "Соколова", "Наталья", "Андреевна", "1985-01-30");
    int64_t parent = named(d, "Иванова", "Елена", "Викторовна", "1986-07-12");
    int64_t methodologist = named(d, "Орлова", "Светлана", "Николаевна", "1975-03-14");
    char b1[32], b2[32];
    snprintf(b1, sizeof(b1), "%04d-04-17", d->first_year - 11);
    snprintf(b2, sizeof(b2), "%04d-02-03", d->first_year - 15);
    int64_t student = named(d, "Иванов", "Артём", "Сергеевич", b1);
    int64_t sister = named(d, "Иванова", "Мария", "Сергеевна", b2);
    if (admin < 0 || sadmin < 0 || teacher < 0 || cteacher < 0 || medic < 0 || parent < 0 ||
        student < 0 || sister < 0 || methodologist < 0)
        return -1;

    static const int g1[] = {2, 5, 5, 9};
    static const char *const l1[] = {"А", "А", "Б", "А"};
    static const int g2[] = {3, 6, 10};
    static const char *const l2[] = {"А", "А", "А"};
    static const int g3[] = {5, 7, 11};
    static const char *const l3[] = {"А", "Б", "А"};
    int64_t c1[4], c2[3], c3[3];
    if (school(d, s1, g1, l1, 4, c1) || school(d, s2, g2, l2, 3, c2) ||
        school(d, s3, g3, l3, 3, c3))
        return -1;
    int64_t c5a = c1[1], c5b = c1[2], c9a = c1[3];
    if (generated_schools(d) != 0)
        return -1;

    if (staff(d, sadmin, s1, "директор") || staff(d, teacher, s1, "учитель математики") ||
        staff(d, cteacher, s1, "учитель русского языка и литературы") ||
        staff(d, medic, s1, "медицинская сестра"))
        return -1;
    if (assign(d, teacher, c5a, "math") || assign(d, teacher, c5b, "math") ||
        assign(d, teacher, c9a, "algebra") || assign(d, teacher, c9a, "geometry") ||
        assign(d, cteacher, c5a, "rus") || assign(d, cteacher, c5a, "lit") ||
        assign(d, cteacher, c5b, "rus") || set_class_teacher(d, c5a, cteacher))
        return -1;
    /* Named teachers take those subjects over from the generated ones. */
    sqlite3_stmt *st =
        db_stmt(d->db, "DELETE FROM teaching_assignments WHERE teacher_id NOT IN "
                       "(:t, :ct) AND ((class_id IN (:a, :b) AND subject_id = "
                       "(SELECT id FROM subjects WHERE code = 'math')) OR (class_id = :n "
                       "AND subject_id IN (SELECT id FROM subjects WHERE code IN "
                       "('algebra', 'geometry'))) OR (class_id = :a AND subject_id IN "
                       "(SELECT id FROM subjects WHERE code IN ('rus', 'lit'))) OR "
                       "(class_id = :b AND subject_id = (SELECT id FROM subjects WHERE "
                       "code = 'rus')))");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":t", teacher);
    db_bind_int(st, ":ct", cteacher);
    db_bind_int(st, ":a", c5a);
    db_bind_int(st, ":b", c5b);
    db_bind_int(st, ":n", c9a);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return -1;
    if (enroll(d, student, c5a) || enroll(d, sister, c9a) ||
        guardian(d, parent, student, "mother") || guardian(d, parent, sister, "mother"))
        return -1;

    struct {
        int64_t person;
        const char *login;
        uint32_t role1, role2;
        int64_t inst;
    } logins[] = {
        {admin, "admin", ROLE_ADMIN, 0, 0},
        {sadmin, "schooladmin", ROLE_SCHOOL_ADMIN, 0, s1},
        {teacher, "teacher", ROLE_TEACHER, 0, s1},
        {cteacher, "classteacher", ROLE_TEACHER, ROLE_CLASS_TEACHER, s1},
        {student, "student", ROLE_STUDENT, 0, s1},
        {parent, "parent", ROLE_PARENT, 0, 0},
        {medic, "medic", ROLE_MEDIC, 0, s1},
        {methodologist, "methodologist", ROLE_METHODOLOGIST, 0, 0},
    };
    for (int i = 0; i < N(logins); i++) {
        int64_t acc = login_for(d, logins[i].person, logins[i].login);
        int64_t inst = logins[i].role1 == ROLE_STUDENT || logins[i].role1 == ROLE_PARENT ||
                               logins[i].role1 == ROLE_ADMIN
                           ? 0
                           : logins[i].inst;
        if (acc < 0 || accounts_grant(d->db, acc, logins[i].role1, inst))
            return -1;
        if (logins[i].role2 && accounts_grant(d->db, acc, logins[i].role2, inst))
            return -1;
    }
    return demo_sample_library(d->db, d->cfg->region.code, teacher, methodologist);
}

/* ---- a term of timetable, lessons, marks, attendance and homework ----------------------- */

static const char *const bell_times[][2] = {
    {"08:30", "09:15"}, {"09:25", "10:10"}, {"10:25", "11:10"}, {"11:25", "12:10"},
    {"12:20", "13:05"}, {"13:15", "14:00"}, {"14:10", "14:55"}, {"15:05", "15:50"},
};

static int bells(struct demo *d)
{
    for (int i = 0; i < N(bell_times); i++) {
        sqlite3_stmt *st = db_stmt(d->db, "INSERT INTO bells (institution_id, number, starts_at, "
                                          "ends_at) SELECT id, :n, :f, :t FROM institutions");
        if (st == NULL)
            return -1;
        db_bind_int(st, ":n", i + 1);
        db_bind_text(st, ":f", bell_times[i][0]);
        db_bind_text(st, ":t", bell_times[i][1]);
        if (db_exec_stmt(st) != SQLITE_DONE)
            return -1;
    }
    return 0;
}

/* A weekly timetable for every class from its teaching assignments: five days, as many
 * lessons a day as the grade needs, subjects in rotation. */
/* Ids from a one-column query into a growing array; returns the count or -1. */
static long collect_ids(sqlite3_stmt *st, int64_t **out)
{
    size_t cap = 256, n = 0;
    int64_t *ids = malloc(cap * sizeof(*ids));
    while (ids && db_step(st) == SQLITE_ROW) {
        if (n == cap) {
            int64_t *more = realloc(ids, 2 * cap * sizeof(*ids));
            if (more == NULL)
                break;
            ids = more;
            cap *= 2;
        }
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_reset(st);
    *out = ids;
    return ids ? (long)n : -1;
}

static int timetables(struct demo *d)
{
    sqlite3_stmt *st = db_stmt(d->db, "SELECT id FROM classes ORDER BY id");
    if (st == NULL)
        return -1;
    int64_t *classes;
    long nclasses = collect_ids(st, &classes);
    if (nclasses < 0)
        return -1;
    int rc = 0;
    for (long c = 0; c < nclasses && rc == 0; c++) {
        int64_t teacher[32], subject[32];
        int n = 0, grade = 0;
        st = db_stmt(d->db, "SELECT a.teacher_id, a.subject_id, c.grade FROM "
                            "teaching_assignments a JOIN classes c ON c.id = a.class_id WHERE "
                            "a.class_id = :c AND a.group_id IS NULL ORDER BY a.subject_id");
        if (st == NULL) {
            rc = -1;
            break;
        }
        db_bind_int(st, ":c", classes[c]);
        while (db_step(st) == SQLITE_ROW && n < 32) {
            teacher[n] = sqlite3_column_int64(st, 0);
            subject[n++] = sqlite3_column_int64(st, 1);
            grade = sqlite3_column_int(st, 2);
        }
        sqlite3_reset(st);
        if (n == 0)
            continue;
        int per_day = grade <= 4 ? 4 : grade <= 6 ? 5 : 6;
        int k = 0;
        for (int day = 1; day <= 5 && rc == 0; day++)
            for (int num = 1; num <= per_day && rc == 0; num++, k++) {
                int a = (k * 5 + day) % n;
                st = db_stmt(d->db, "INSERT INTO timetable (class_id, weekday, number, "
                                    "subject_id, teacher_id, room) VALUES (:c, :w, :n, :s, :t, "
                                    ":r)");
                if (st == NULL) {
                    rc = -1;
                    break;
                }
                char room[8];
                snprintf(room, sizeof(room), "%d", 100 + (int)(classes[c] % 30) + 1);
                db_bind_int(st, ":c", classes[c]);
                db_bind_int(st, ":w", day);
                db_bind_int(st, ":n", num);
                db_bind_int(st, ":s", subject[a]);
                db_bind_int(st, ":t", teacher[a]);
                db_bind_text(st, ":r", room);
                rc = db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
            }
    }
    free(classes);
    return rc;
}

/* One class's past lessons: topics, homework on most, about four marks a lesson and one
 * absence in twenty, on random students. */
static int class_term(struct demo *d, int64_t class_id, const char *today)
{
    static const char *const forms[] = {"oral",        "oral", "oral",   "homework",
                                        "independent", "test", "control"};
    static const char *const values[] = {"5", "5", "4", "4", "4", "3", "5", "4", "2", "3"};
    sqlite3_stmt *st = db_stmt(d->db, "UPDATE lessons SET topic = CASE id % 7 "
                                      "WHEN 0 THEN 'Повторение изученного' "
                                      "WHEN 1 THEN 'Новая тема: введение' "
                                      "WHEN 2 THEN 'Решение задач' WHEN 3 THEN 'Практикум' "
                                      "WHEN 4 THEN 'Самостоятельная работа' "
                                      "WHEN 5 THEN 'Обобщение и систематизация' "
                                      "ELSE 'Работа с текстом' END "
                                      "WHERE class_id = :c AND date <= :today");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":c", class_id);
    db_bind_text(st, ":today", today);
    if (db_exec_stmt(st) != SQLITE_DONE)
        return -1;
    st = db_stmt(d->db, "SELECT student_id FROM enrollments WHERE class_id = :c AND "
                        "left_on IS NULL ORDER BY student_id");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":c", class_id);
    int64_t *kids;
    long nk = collect_ids(st, &kids);
    st = db_stmt(d->db, "SELECT id FROM lessons WHERE class_id = :c AND date <= :today "
                        "ORDER BY id");
    if (st == NULL || nk < 0) {
        free(kids);
        return -1;
    }
    db_bind_int(st, ":c", class_id);
    db_bind_text(st, ":today", today);
    int64_t *lessons;
    long nl = collect_ids(st, &lessons);
    int rc = nl < 0 ? -1 : 0;
    for (long i = 0; i < nl && rc == 0; i++) {
        if (pick(d, 10) < 6) {
            st = db_stmt(d->db, "INSERT INTO homework (lesson_id, text, due_date, created_by) "
                                "SELECT id, :t, date(date, '+2 days'), teacher_id FROM lessons "
                                "WHERE id = :l");
            char text[96];
            snprintf(text, sizeof(text), "§ %u, упражнения %u и %u", 1 + pick(d, 30),
                     1 + pick(d, 100), 101 + pick(d, 100));
            if (st == NULL)
                rc = -1;
            else {
                db_bind_int(st, ":l", lessons[i]);
                db_bind_text(st, ":t", text);
                rc = db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
            }
        }
        for (long k = 0; k < nk && rc == 0; k++) {
            unsigned roll = pick(d, 100);
            if (roll < 5) {
                st = db_stmt(d->db, "INSERT INTO attendance (lesson_id, student_id, status, "
                                    "justified, set_by) SELECT id, :s, :st, :j, teacher_id "
                                    "FROM lessons WHERE id = :l");
                if (st == NULL)
                    rc = -1;
                else {
                    db_bind_int(st, ":l", lessons[i]);
                    db_bind_int(st, ":s", kids[k]);
                    db_bind_text(st, ":st", roll < 2 ? "ill" : roll < 4 ? "absent" : "late");
                    db_bind_int(st, ":j", roll < 2);
                    rc = db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
                }
            } else if (roll < 5 + 16) {
                st = db_stmt(d->db, "INSERT INTO marks (lesson_id, student_id, value, "
                                    "control_form_id, weight, created_by, created_at, "
                                    "updated_at) SELECT l.id, :s, :v, f.id, f.weight, "
                                    "l.teacher_id, unixepoch(l.date, '+12 hours'), "
                                    "unixepoch(l.date, '+12 hours') FROM lessons l, "
                                    "control_forms f WHERE l.id = :l AND f.code = :f");
                if (st == NULL)
                    rc = -1;
                else {
                    db_bind_int(st, ":l", lessons[i]);
                    db_bind_int(st, ":s", kids[k]);
                    db_bind_text(st, ":v", values[pick(d, N(values))]);
                    db_bind_text(st, ":f", forms[pick(d, N(forms))]);
                    rc = db_exec_stmt(st) == SQLITE_DONE ? 0 : -1;
                }
            }
        }
    }
    free(kids);
    free(lessons);
    return rc;
}

/* Lessons of every period that has begun for every class; the past ones filled in. */
static int term(struct demo *d, const char *today)
{
    sqlite3_stmt *st = db_stmt(d->db, "SELECT p.id FROM periods p WHERE p.year_id = :y AND "
                                      "p.starts_on <= :today ORDER BY p.number");
    if (st == NULL)
        return -1;
    db_bind_int(st, ":y", d->year);
    db_bind_text(st, ":today", today);
    int64_t *periods;
    long np = collect_ids(st, &periods);
    st = db_stmt(d->db, "SELECT id FROM classes WHERE year_id = :y ORDER BY id");
    if (st == NULL || np < 0) {
        free(periods);
        return -1;
    }
    db_bind_int(st, ":y", d->year);
    int64_t *classes;
    long nc = collect_ids(st, &classes);
    int rc = nc < 0 ? -1 : 0;
    for (long c = 0; c < nc && rc == 0; c++) {
        for (long p = 0; p < np && rc == 0; p++)
            if (journal_generate_lessons(d->db, d->cfg, classes[c], periods[p]) < 0)
                rc = -1;
        if (rc == 0)
            rc = class_term(d, classes[c], today);
        if (d->progress && (c % 50 == 49 || c + 1 == nc))
            d->progress("lessons and marks", c + 1, nc);
        if (rc == 0 && c % 500 == 499)
            rc = checkpoint(d);
    }
    free(periods);
    free(classes);
    /* The trail starts with the marks' creation. */
    if (rc == 0 &&
        db_exec(d->db, "INSERT INTO mark_history (mark_id, lesson_id, student_id, "
                       "action, new, by_person, at) SELECT id, lesson_id, "
                       "student_id, 'create', json_object('id', id, 'value', value, "
                       "'weight', weight), created_by, created_at FROM marks") != SQLITE_OK)
        rc = -1;
    return rc;
}

int demo_populate(struct node *n, char *err, size_t errlen)
{
    return demo_generate(n, "demo", NULL, err, errlen);
}

const char *demo_scales(void)
{
    static char text[512];
    if (text[0] == '\0')
        for (size_t i = 0; i < sizeof(scales) / sizeof(scales[0]); i++)
            snprintf(text + strlen(text), sizeof(text) - strlen(text), "  %-10s %s\n",
                     scales[i].name, scales[i].about);
    return text;
}

int demo_generate(struct node *n, const char *scale_name,
                  void (*progress)(const char *stage, long done, long total), char *err,
                  size_t errlen)
{
    struct demo d = {.cfg = &n->cfg, .rng = 0x9E3779B97F4A7C15ull, .progress = progress};
    for (size_t i = 0; i < sizeof(scales) / sizeof(scales[0]); i++)
        if (strcmp(scales[i].name, scale_name) == 0)
            d.scale = &scales[i];
    if (d.scale == NULL) {
        snprintf(err, errlen, "unknown scale '%s'", scale_name);
        return -1;
    }
    d.db = db_open(n->db_path, &n->cfg, err, errlen);
    if (d.db == NULL)
        return -1;
    /* A fresh region: no cached answer exists yet, so the read cache's change counters
     * (cache/cache.sql) need not count the millions of generated rows. */
    sqlite3_db_config(db_handle(d.db), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
    int rc = -1;
    sqlite3_stmt *st = db_stmt(d.db, "SELECT count(*) FROM accounts");
    if (st == NULL || db_step(st) != SQLITE_ROW)
        goto dberr;
    int existing = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (existing > 0) {
        rc = 0;
        goto out;
    }
    if (auth_hash_password(&n->cfg, "demo", d.hash) != 0) {
        snprintf(err, errlen, "hashing the demo password failed");
        goto out;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    d.first_year = tm.tm_year + 1900 - (tm.tm_mon + 1 < 9 ? 1 : 0);
    if (d.scale->schools > 0 && db_exec(d.db, "PRAGMA cache_size = -262144") != SQLITE_OK)
        goto dberr;
    if (db_begin_write(d.db) != SQLITE_OK)
        goto dberr;
    if (school_seed_subjects(d.db, &n->cfg, err, errlen) != 0 ||
        (d.year = school_ensure_year(d.db, &n->cfg, now, err, errlen)) < 0)
        goto out;
    char today[16];
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    if (build(&d) != 0 || bells(&d) != 0 || timetables(&d) != 0 || term(&d, today) != 0)
        goto dberr;
    if (db_commit(d.db) != SQLITE_OK)
        goto dberr;
    rc = 1;
    goto out;
dberr:
    snprintf(err, errlen, "building the %s region: %s", d.scale->name, db_errmsg(d.db));
out:
    db_rollback(d.db);
    db_close(d.db);
    return rc;
}

void demo_print_banner(struct node *n)
{
    char host[64];
    snprintf(host, sizeof(host), "%s", n->cfg.http.listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    printf("\nMES demo region is running: http://%s:%d/\n\n"
           "Logins (password \"demo\" for each):\n"
           "  admin         region administrator\n"
           "  schooladmin   administrator of «Школа № 1»\n"
           "  teacher       mathematics teacher, 5А 5Б 9А\n"
           "  classteacher  class teacher of 5А, Russian and literature\n"
           "  student       Артём Иванов, 5А\n"
           "  parent        Елена Иванова, mother of Артём (5А) and Мария (9А)\n"
           "  medic         school nurse of «Школа № 1»\n"
           "  methodologist reviews the region's library items\n\n"
           "Data in %s. Stop with Ctrl-C.\n",
           host, n->port, n->cfg.storage.data_dir);
    fflush(stdout);
}
