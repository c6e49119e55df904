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
    int64_t first_school; /* the first generated school (0: none, the demo scale) */
    int64_t showcase; /* «Школа № 1», «Москвёнок»'s showcase (demo/terminals.c) */
    struct demo_tokens tokens; /* their terminals' device tokens (demo/terminals.c) */
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
    int64_t id = school_add_person(d->db, lastbuf,
                                   female ? girls[pick(d, N(girls))] : boys[pick(d, N(boys))],
                                   patronymics[pick(d, N(patronymics))][female ? 1 : 0], birth);
    /* Everyone a region holds has an account, waiting for its activation letter. */
    char login[ACCOUNT_LOGIN_MAX + 1];
    return id < 0 || accounts_add_inactive(d->db, id, lastbuf, login) < 0 ? -1 : id;
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

/* Runs an INSERT; the new row's id, or -1 on a failure. */
static int64_t insert_id(struct demo *d, const char *sql, const struct db_arg *args)
{
    return db_run(d->db, sql, args) == SQLITE_DONE ? db_last_id(d->db) : -1;
}

/* Runs an INSERT, UPDATE or DELETE; 0, or -1 on a failure. */
static int run(struct demo *d, const char *sql, const struct db_arg *args)
{
    return db_run(d->db, sql, args) == SQLITE_DONE ? 0 : -1;
}

static int64_t municipality(struct demo *d, const char *name)
{
    return insert_id(d, "INSERT INTO municipalities (name) VALUES (:n)",
                     DB_ARGS(DB_TEXT(":n", name)));
}

static int64_t institution(struct demo *d, int64_t mun, const char *name, const char *short_name,
                           const char *address)
{
    return insert_id(d,
                     "INSERT INTO institutions (municipality_id, kind, name, "
                     "short_name, address) VALUES (:m, 'school', :n, :s, :a)",
                     DB_ARGS(DB_INT(":m", mun), DB_TEXT(":n", name), DB_TEXT(":s", short_name),
                             DB_TEXT(":a", address)));
}

static int64_t class_(struct demo *d, int64_t inst, int grade, const char *letter)
{
    return insert_id(d,
                     "INSERT INTO classes (institution_id, year_id, grade, "
                     "letter) VALUES (:i, :y, :g, :l)",
                     DB_ARGS(DB_INT(":i", inst), DB_INT(":y", d->year), DB_INT(":g", grade),
                             DB_TEXT(":l", letter)));
}

static int set_class_teacher(struct demo *d, int64_t cls, int64_t teacher)
{
    return run(d, "UPDATE classes SET class_teacher_id = :t WHERE id = :c",
               DB_ARGS(DB_INT(":t", teacher), DB_INT(":c", cls)));
}

static int staff(struct demo *d, int64_t p, int64_t inst, const char *position)
{
    return run(d,
               "INSERT INTO staff (person_id, institution_id, position) "
               "VALUES (:p, :i, :pos)",
               DB_ARGS(DB_INT(":p", p), DB_INT(":i", inst), DB_TEXT(":pos", position)));
}

/* The id of the subject with `code`; -1 when there is none or on a failure. */
static int64_t subject(struct demo *d, const char *code)
{
    int64_t id = -1;
    int rc =
        db_int(d->db, &id, "SELECT id FROM subjects WHERE code = :c", DB_ARGS(DB_TEXT(":c", code)));
    return rc == SQLITE_ROW ? id : -1;
}

static int assign(struct demo *d, int64_t teacher, int64_t cls, const char *code)
{
    int64_t subj = subject(d, code);
    if (subj < 0)
        return -1;
    return run(d,
               "INSERT INTO teaching_assignments (teacher_id, class_id, "
               "subject_id) VALUES (:t, :c, :s) ON CONFLICT DO NOTHING",
               DB_ARGS(DB_INT(":t", teacher), DB_INT(":c", cls), DB_INT(":s", subj)));
}

static int enroll(struct demo *d, int64_t student, int64_t cls)
{
    char on[16];
    snprintf(on, sizeof(on), "%04d-09-01", d->first_year);
    return run(d,
               "INSERT INTO enrollments (student_id, class_id, "
               "enrolled_on) VALUES (:s, :c, :on)",
               DB_ARGS(DB_INT(":s", student), DB_INT(":c", cls), DB_TEXT(":on", on)));
}

static int guardian(struct demo *d, int64_t parent, int64_t child, const char *relation)
{
    return run(d,
               "INSERT INTO guardians (guardian_id, student_id, relation) "
               "VALUES (:g, :s, :r)",
               DB_ARGS(DB_INT(":g", parent), DB_INT(":s", child), DB_TEXT(":r", relation)));
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
        if (i == 0)
            d->first_school = inst;
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

/* The named people of the demo (their logins in docs), made first so their ids are stable. */
struct named_people {
    int64_t admin, sadmin, teacher, cteacher, medic, canteen, parent, methodologist, student,
        sister;
};

/* The two municipalities and the three schools the named people work in: s[0..2]. */
static int places(struct demo *d, int64_t s[3])
{
    int64_t central = municipality(d, "Городской округ «Центральный»");
    int64_t north = municipality(d, "Северный муниципальный район");
    if (central < 0 || north < 0)
        return -1;
    s[0] = institution(d, central,
                       "Муниципальное бюджетное общеобразовательное учреждение "
                       "«Средняя общеобразовательная школа № 1»",
                       "Школа № 1", "ул. Ленина, 12");
    s[1] = institution(d, central,
                       "Муниципальное автономное общеобразовательное "
                       "учреждение «Гимназия № 2»",
                       "Гимназия № 2", "пр. Мира, 40");
    s[2] = institution(d, north,
                       "Муниципальное бюджетное общеобразовательное учреждение "
                       "«Лицей № 3»",
                       "Лицей № 3", "ул. Школьная, 5");
    return s[0] < 0 || s[1] < 0 || s[2] < 0 ? -1 : 0;
}

static int people(struct demo *d, struct named_people *p)
{
    p->admin = named(d, "Орлова", "Светлана", "Викторовна", "1975-03-14");
    p->sadmin = named(d, "Петров", "Андрей", "Николаевич", "1970-11-02");
    p->teacher = named(d, "Смирнова", "Ольга", "Петровна", "1982-05-21");
    p->cteacher = named(d, "Кузнецова", "Марина", "Игоревна", "1979-09-09");
    p->medic = named(d, "Соколова", "Наталья", "Андреевна", "1985-01-30");
    p->canteen = named(d, "Белова", "Галина", "Петровна", "1977-08-25");
    p->parent = named(d, "Иванова", "Елена", "Викторовна", "1986-07-12");
    p->methodologist = named(d, "Орлова", "Светлана", "Николаевна", "1975-03-14");
    char b1[32], b2[32];
    snprintf(b1, sizeof(b1), "%04d-04-17", d->first_year - 11);
    snprintf(b2, sizeof(b2), "%04d-02-03", d->first_year - 15);
    p->student = named(d, "Иванов", "Артём", "Сергеевич", b1);
    p->sister = named(d, "Иванова", "Мария", "Сергеевна", b2);
    return p->admin < 0 || p->sadmin < 0 || p->teacher < 0 || p->cteacher < 0 || p->medic < 0 ||
                   p->canteen < 0 || p->parent < 0 || p->student < 0 || p->sister < 0 ||
                   p->methodologist < 0
               ? -1
               : 0;
}

/* The named staff of school s1, what they teach in 5А, 5Б and 9А, the children's classes. */
static int teaching(struct demo *d, const struct named_people *p, int64_t s1, int64_t c5a,
                    int64_t c5b, int64_t c9a)
{
    if (staff(d, p->sadmin, s1, "директор") || staff(d, p->teacher, s1, "учитель математики") ||
        staff(d, p->cteacher, s1, "учитель русского языка и литературы") ||
        staff(d, p->medic, s1, "медицинская сестра") ||
        staff(d, p->canteen, s1, "заведующая столовой"))
        return -1;
    if (assign(d, p->teacher, c5a, "math") || assign(d, p->teacher, c5b, "math") ||
        assign(d, p->teacher, c9a, "algebra") || assign(d, p->teacher, c9a, "geometry") ||
        assign(d, p->cteacher, c5a, "rus") || assign(d, p->cteacher, c5a, "lit") ||
        assign(d, p->cteacher, c5b, "rus") || set_class_teacher(d, c5a, p->cteacher))
        return -1;
    /* Named teachers take those subjects over from the generated ones. */
    if (run(d,
            "DELETE FROM teaching_assignments WHERE teacher_id NOT IN "
            "(:t, :ct) AND ((class_id IN (:a, :b) AND subject_id = "
            "(SELECT id FROM subjects WHERE code = 'math')) OR (class_id = :n "
            "AND subject_id IN (SELECT id FROM subjects WHERE code IN "
            "('algebra', 'geometry'))) OR (class_id = :a AND subject_id IN "
            "(SELECT id FROM subjects WHERE code IN ('rus', 'lit'))) OR "
            "(class_id = :b AND subject_id = (SELECT id FROM subjects WHERE "
            "code = 'rus')))",
            DB_ARGS(DB_INT(":t", p->teacher), DB_INT(":ct", p->cteacher), DB_INT(":a", c5a),
                    DB_INT(":b", c5b), DB_INT(":n", c9a))) != 0)
        return -1;
    if (enroll(d, p->student, c5a) || enroll(d, p->sister, c9a) ||
        guardian(d, p->parent, p->student, "mother") || guardian(d, p->parent, p->sister, "mother"))
        return -1;
    return 0;
}

/* The demo logins (password "demo") and their roles. */
static int logins(struct demo *d, const struct named_people *p, int64_t s1)
{
    struct {
        int64_t person;
        const char *login;
        uint32_t role1, role2;
        int64_t inst;
    } list[] = {
        {p->admin, "admin", ROLE_ADMIN, 0, 0},
        {p->sadmin, "schooladmin", ROLE_SCHOOL_ADMIN, 0, s1},
        {p->teacher, "teacher", ROLE_TEACHER, 0, s1},
        {p->cteacher, "classteacher", ROLE_TEACHER, ROLE_CLASS_TEACHER, s1},
        {p->student, "student", ROLE_STUDENT, 0, s1},
        {p->parent, "parent", ROLE_PARENT, 0, 0},
        {p->medic, "medic", ROLE_MEDIC, 0, s1},
        {p->canteen, "canteen", ROLE_CANTEEN, 0, s1},
        {p->methodologist, "methodologist", ROLE_METHODOLOGIST, 0, 0},
    };
    for (int i = 0; i < N(list); i++) {
        int64_t acc = login_for(d, list[i].person, list[i].login);
        int64_t inst = list[i].role1 == ROLE_STUDENT || list[i].role1 == ROLE_PARENT ||
                               list[i].role1 == ROLE_ADMIN
                           ? 0
                           : list[i].inst;
        if (acc < 0 || accounts_grant(d->db, acc, list[i].role1, inst))
            return -1;
        if (list[i].role2 && accounts_grant(d->db, acc, list[i].role2, inst))
            return -1;
    }
    char login[ACCOUNT_LOGIN_MAX + 1];
    return accounts_add_inactive(d->db, p->sister, "Иванова", login) < 0 ? -1 : 0;
}

/* The roles a region's own records give the accounts not yet activated (every one but the
 * demo logins): students and parents region-wide, as the demo's are; teachers, class
 * teachers and directors (school administrators) at their school. One statement per role. */
static int grants(struct demo *d)
{
    static const char *const sql[] = {
        "INSERT INTO role_grants (account_id, role, institution_id) SELECT a.id, 'student', "
        "NULL FROM enrollments e JOIN accounts a ON a.person_id = e.student_id WHERE "
        "e.left_on IS NULL AND a.password_hash IS NULL",
        "INSERT INTO role_grants (account_id, role, institution_id) SELECT a.id, 'parent', "
        "NULL FROM accounts a WHERE a.password_hash IS NULL AND EXISTS (SELECT 1 FROM "
        "guardians g WHERE g.guardian_id = a.person_id)",
        "INSERT INTO role_grants (account_id, role, institution_id) SELECT a.id, CASE WHEN "
        "s.position = 'директор' THEN 'school_admin' ELSE 'teacher' END, s.institution_id "
        "FROM staff s JOIN accounts a ON a.person_id = s.person_id WHERE a.password_hash IS "
        "NULL AND (s.position = 'директор' OR s.position LIKE 'учитель%')",
        "INSERT INTO role_grants (account_id, role, institution_id) SELECT DISTINCT a.id, "
        "'class_teacher', c.institution_id FROM classes c JOIN accounts a ON a.person_id = "
        "c.class_teacher_id WHERE a.password_hash IS NULL",
    };
    for (int i = 0; i < N(sql); i++)
        if (run(d, sql[i], NULL) != 0)
            return -1;
    return 0;
}

static int build(struct demo *d)
{
    int64_t s[3];
    struct named_people p;
    if (places(d, s) != 0 || people(d, &p) != 0)
        return -1;
    d->showcase = s[0];
    static const int g1[] = {2, 5, 5, 9};
    static const char *const l1[] = {"А", "А", "Б", "А"};
    static const int g2[] = {3, 6, 10};
    static const char *const l2[] = {"А", "А", "А"};
    static const int g3[] = {5, 7, 11};
    static const char *const l3[] = {"А", "Б", "А"};
    int64_t c1[4], c2[3], c3[3];
    if (school(d, s[0], g1, l1, 4, c1) || school(d, s[1], g2, l2, 3, c2) ||
        school(d, s[2], g3, l3, 3, c3))
        return -1;
    if (generated_schools(d) != 0 || teaching(d, &p, s[0], c1[1], c1[2], c1[3]) != 0 ||
        logins(d, &p, s[0]) != 0 || grants(d) != 0)
        return -1;
    return demo_sample_library(d->db, d->cfg->region.code, p.teacher, p.methodologist);
}

/* ---- a term of timetable, lessons, marks, attendance and homework ----------------------- */

static const char *const bell_times[][2] = {
    {"08:30", "09:15"}, {"09:25", "10:10"}, {"10:25", "11:10"}, {"11:25", "12:10"},
    {"12:20", "13:05"}, {"13:15", "14:00"}, {"14:10", "14:55"}, {"15:05", "15:50"},
};

static int bells(struct demo *d)
{
    for (int i = 0; i < N(bell_times); i++) {
        if (run(d,
                "INSERT INTO bells (institution_id, number, starts_at, "
                "ends_at) SELECT id, :n, :f, :t FROM institutions",
                DB_ARGS(DB_INT(":n", i + 1), DB_TEXT(":f", bell_times[i][0]),
                        DB_TEXT(":t", bell_times[i][1]))) != 0)
            return -1;
    }
    return 0;
}

/* A weekly timetable for every class from its teaching assignments: five days, as many
 * lessons a day as the grade needs, subjects in rotation. */
/* The ids a one-column query returns, into *out (malloc'ed, freed by the caller; NULL on a
 * failure). Returns how many, or -1 when the query fails or memory runs out. */
static long collect_ids(struct demo *d, const char *sql, const struct db_arg *args, int64_t **out)
{
    size_t cap = 256, n = 0;
    int64_t *ids = malloc(cap * sizeof(*ids));
    sqlite3_stmt *st = db_query(d->db, sql, args);
    bool oom = ids == NULL;
    int rc;
    while (db_next(st, &rc)) {
        if (!oom && n == cap) {
            int64_t *more = realloc(ids, 2 * cap * sizeof(*ids));
            oom = more == NULL;
            if (more != NULL) {
                ids = more;
                cap *= 2;
            }
        }
        if (!oom)
            ids[n++] = sqlite3_column_int64(st, 0);
    }
    if (rc != SQLITE_DONE || oom) {
        free(ids);
        *out = NULL;
        return -1;
    }
    *out = ids;
    return (long)n;
}

static int timetables(struct demo *d)
{
    int64_t *classes;
    long nclasses = collect_ids(d, "SELECT id FROM classes ORDER BY id", NULL, &classes);
    if (nclasses < 0)
        return -1;
    int rc = 0;
    for (long c = 0; c < nclasses && rc == 0; c++) {
        int64_t teacher[32], subject[32];
        int n = 0, grade = 0, step;
        sqlite3_stmt *st =
            db_query(d->db,
                     "SELECT a.teacher_id, a.subject_id, c.grade FROM "
                     "teaching_assignments a JOIN classes c ON c.id = a.class_id WHERE "
                     "a.class_id = :c AND a.group_id IS NULL ORDER BY a.subject_id",
                     DB_ARGS(DB_INT(":c", classes[c])));
        bool many = false; /* the curriculum has fewer subjects than the arrays hold */
        while (db_next(st, &step)) {
            many = many || n == 32;
            if (many)
                continue;
            teacher[n] = sqlite3_column_int64(st, 0);
            subject[n++] = sqlite3_column_int64(st, 1);
            grade = sqlite3_column_int(st, 2);
        }
        if (step != SQLITE_DONE || many) {
            rc = -1;
            break;
        }
        if (n == 0)
            continue;
        int per_day = grade <= 4 ? 4 : grade <= 6 ? 5 : 6;
        int k = 0;
        for (int day = 1; day <= 5 && rc == 0; day++)
            for (int num = 1; num <= per_day && rc == 0; num++, k++) {
                int a = (k * 5 + day) % n;
                char room[8];
                snprintf(room, sizeof(room), "%d", 100 + (int)(classes[c] % 30) + 1);
                rc = run(d,
                         "INSERT INTO timetable (class_id, weekday, number, "
                         "subject_id, teacher_id, room) VALUES (:c, :w, :n, :s, :t, :r)",
                         DB_ARGS(DB_INT(":c", classes[c]), DB_INT(":w", day), DB_INT(":n", num),
                                 DB_INT(":s", subject[a]), DB_INT(":t", teacher[a]),
                                 DB_TEXT(":r", room)));
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
    if (run(d,
            "UPDATE lessons SET topic = CASE id % 7 "
            "WHEN 0 THEN 'Повторение изученного' "
            "WHEN 1 THEN 'Новая тема: введение' "
            "WHEN 2 THEN 'Решение задач' WHEN 3 THEN 'Практикум' "
            "WHEN 4 THEN 'Самостоятельная работа' "
            "WHEN 5 THEN 'Обобщение и систематизация' "
            "ELSE 'Работа с текстом' END "
            "WHERE class_id = :c AND date <= :today",
            DB_ARGS(DB_INT(":c", class_id), DB_TEXT(":today", today))) != 0)
        return -1;
    int64_t *kids, *lessons = NULL;
    long nk = collect_ids(d,
                          "SELECT student_id FROM enrollments WHERE class_id = :c AND "
                          "left_on IS NULL ORDER BY student_id",
                          DB_ARGS(DB_INT(":c", class_id)), &kids);
    long nl =
        nk < 0 ? -1
               : collect_ids(d,
                             "SELECT id FROM lessons WHERE class_id = :c AND date <= :today "
                             "ORDER BY id",
                             DB_ARGS(DB_INT(":c", class_id), DB_TEXT(":today", today)), &lessons);
    int rc = nl < 0 ? -1 : 0;
    for (long i = 0; i < nl && rc == 0; i++) {
        if (pick(d, 10) < 6) {
            char text[96];
            snprintf(text, sizeof(text), "§ %u, упражнения %u и %u", 1 + pick(d, 30),
                     1 + pick(d, 100), 101 + pick(d, 100));
            rc = run(d,
                     "INSERT INTO homework (lesson_id, text, due_date, created_by) "
                     "SELECT id, :t, date(date, '+2 days'), teacher_id FROM lessons "
                     "WHERE id = :l",
                     DB_ARGS(DB_INT(":l", lessons[i]), DB_TEXT(":t", text)));
        }
        for (long k = 0; k < nk && rc == 0; k++) {
            unsigned roll = pick(d, 100);
            if (roll < 5) {
                rc = run(d,
                         "INSERT INTO attendance (lesson_id, student_id, status, "
                         "justified, set_by) SELECT id, :s, :st, :j, teacher_id "
                         "FROM lessons WHERE id = :l",
                         DB_ARGS(DB_INT(":l", lessons[i]), DB_INT(":s", kids[k]),
                                 DB_TEXT(":st", roll < 2   ? "ill"
                                                : roll < 4 ? "absent"
                                                           : "late"),
                                 DB_INT(":j", roll < 2)));
            } else if (roll < 5 + 16) {
                /* The value before the form: the generator's order of draws. */
                const char *value = values[pick(d, N(values))];
                const char *form = forms[pick(d, N(forms))];
                rc = run(d,
                         "INSERT INTO marks (lesson_id, student_id, value, "
                         "control_form_id, weight, created_by, created_at, "
                         "updated_at) SELECT l.id, :s, :v, f.id, f.weight, "
                         "l.teacher_id, unixepoch(l.date, '+12 hours'), "
                         "unixepoch(l.date, '+12 hours') FROM lessons l, "
                         "control_forms f WHERE l.id = :l AND f.code = :f",
                         DB_ARGS(DB_INT(":l", lessons[i]), DB_INT(":s", kids[k]),
                                 DB_TEXT(":v", value), DB_TEXT(":f", form)));
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
    int64_t *periods, *classes = NULL;
    long np = collect_ids(d,
                          "SELECT p.id FROM periods p WHERE p.year_id = :y AND "
                          "p.starts_on <= :today ORDER BY p.number",
                          DB_ARGS(DB_INT(":y", d->year), DB_TEXT(":today", today)), &periods);
    long nc = np < 0 ? -1
                     : collect_ids(d, "SELECT id FROM classes WHERE year_id = :y ORDER BY id",
                                   DB_ARGS(DB_INT(":y", d->year)), &classes);
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
    int64_t existing = 0;
    if (db_int(d.db, &existing, "SELECT count(*) FROM accounts", NULL) != SQLITE_ROW)
        goto dberr;
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
    if (build(&d) != 0 || bells(&d) != 0 || timetables(&d) != 0 || term(&d, today) != 0 ||
        demo_moskvenok_showcase(d.db, d.cfg, d.showcase, now) != 0)
        goto dberr;
    /* «Москвёнок» for the generated schools: cards, accounts, buffets, terminals' tokens. */
    if (d.first_school > 0) {
        if (progress)
            progress("cards and terminals", 0, 1);
        if (demo_moskvenok(d.db, d.first_school, now, &d.tokens) != 0)
            goto dberr;
        if (progress)
            progress("cards and terminals", 1, 1);
    }
    if (db_commit(d.db) != SQLITE_OK)
        goto dberr;
    if (d.first_school > 0 && demo_moskvenok_files(d.db, n->cfg.storage.data_dir, d.first_school,
                                                   &d.tokens, err, errlen) != 0)
        goto out;
    rc = 1;
    goto out;
dberr:
    snprintf(err, errlen, "building the %s region: %s", d.scale->name, db_errmsg(d.db));
out:
    db_rollback(d.db);
    db_close(d.db);
    free(d.tokens.items);
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
           "  canteen       canteen of «Школа № 1»: the menu, the buffet's sales\n"
           "  methodologist reviews the region's library items\n\n"
           "Data in %s. Stop with Ctrl-C.\n",
           host, n->port, n->cfg.storage.data_dir);
    fflush(stdout);
}
