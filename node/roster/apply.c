/*
 * The roster's apply: brings the database to a linked model inside the caller's write
 * transaction, and counts what changed per kind (docs/roster.md, "What an import changes").
 *
 * Everything the comparison needs was loaded once (roster_load): what each source id became
 * and the digest of the row it came from (an unchanged row is skipped without a query), the
 * current enrolments, guardian links, staff and teaching assignments. Each statement is
 * prepared once (db_stmt caches it per connection), so a region's 1.25 million people cost a
 * few inserts each and no SELECT. People are never deleted: one who leaves (missing from a
 * bulk file, or tobedeleted) has the enrolment closed, links and school roles removed, and
 * keeps marks and account.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/auth.h"
#include "db.h"
#include "roles.h"
#include "roster/model.h"
#include "school/school.h"

struct apply {
    struct roster_model *m;
    struct db *db;
    struct roster_report *rep;
    const struct roster_options *opt;
    bool failed;      /* storage */
    bool refused;     /* an error met while applying (a clash), without skip_invalid */
    struct imap done; /* (person, 0): students whose class this import decided */
};

static int kind_of_role(uint32_t role)
{
    return role == ROLE_STUDENT ? RK_STUDENTS : role == ROLE_PARENT ? RK_GUARDIANS : RK_STAFF;
}

static int ids_put(struct apply *a, char kind, const char *sid, int64_t local, int64_t extra,
                   int64_t digest, bool left)
{
    char k[2] = {kind, '\0'};
    char key[300];
    snprintf(key, sizeof(key), "%c%s", kind, sid);
    int rc;
    if (smap_get(&a->m->ids, key) == NULL) /* new: a plain insert, cheaper than the upsert */
        rc = db_run(a->db,
                    "INSERT INTO roster_ids (kind, source_id, local_id, extra, digest, left) "
                    "VALUES (:k, :s, :l, :x, :d, :left)",
                    DB_ARGS(DB_TEXT(":k", k), DB_TEXT(":s", sid), DB_INT(":l", local),
                            DB_INT(":x", extra), DB_INT(":d", digest), DB_INT(":left", left)));
    else
        rc = db_run(a->db,
                    "INSERT INTO roster_ids (kind, source_id, local_id, extra, digest, left) "
                    "VALUES (:k, :s, :l, :x, :d, :left) ON CONFLICT (kind, source_id) DO UPDATE "
                    "SET local_id = excluded.local_id, extra = excluded.extra, "
                    "digest = excluded.digest, left = excluded.left",
                    DB_ARGS(DB_TEXT(":k", k), DB_TEXT(":s", sid), DB_INT(":l", local),
                            DB_INT(":x", extra), DB_INT(":d", digest), DB_INT(":left", left)));
    if (rc != SQLITE_DONE)
        a->failed = true;
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A clash with the database (a unique name taken): an error at the row. */
static void clash(struct apply *a, struct ent *e, const char *what)
{
    roster_error(a->rep, e->file, e->line, "conflict", e->sid, what);
    e->bad = true;
    if (!a->opt->skip_invalid && !a->opt->dry_run)
        a->refused = true;
}

/* Runs a write; a constraint is a clash (1), a failure -1, else 0. */
static int write(struct apply *a, const char *sql, const struct db_arg *args)
{
    int rc = db_run(a->db, sql, args);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return 1;
    a->failed = true;
    return -1;
}

/* ---- organisations, years, classes ------------------------------------------------------------
 */

static void apply_district(struct apply *a, struct ent *e)
{
    int64_t digest = roster_digest((const char *[]){e->name, NULL});
    if (e->ids) {
        if (e->ids->digest == digest)
            return;
        int rc = write(a, "UPDATE municipalities SET name = :n WHERE id = :id",
                       DB_ARGS(DB_TEXT(":n", e->name), DB_INT(":id", e->local)));
        if (rc == 1)
            return clash(a, e, e->name);
        a->rep->counts[RK_MUNICIPALITIES].updated++;
    } else {
        int64_t id = 0;
        int rc = db_int(a->db, &id, "SELECT id FROM municipalities WHERE name = :n",
                        DB_ARGS(DB_TEXT(":n", e->name)));
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            a->failed = true;
            return;
        }
        if (rc == SQLITE_DONE) {
            rc = write(a, "INSERT INTO municipalities (name) VALUES (:n)",
                       DB_ARGS(DB_TEXT(":n", e->name)));
            if (rc != 0)
                return rc == 1 ? clash(a, e, e->name) : (void)0;
            id = db_last_id(a->db);
            a->rep->counts[RK_MUNICIPALITIES].added++;
        }
        e->local = id;
    }
    ids_put(a, E_DISTRICT, e->sid, e->local, 0, digest, false);
}

static void apply_school(struct apply *a, struct ent *e)
{
    int64_t muni = e->parent ? e->parent->local : e->extra;
    const char *shortname = e->ident[0] ? e->ident : e->name;
    int64_t digest =
        roster_digest((const char *[]){e->name, shortname, e->parent ? e->parent->sid : "", NULL});
    if (e->preset_local) /* the template: a school found by name */
        return;
    if (e->ids) {
        if (e->ids->digest == digest)
            return;
        int rc = write(a,
                       "UPDATE institutions SET name = :n, short_name = :s, municipality_id = :m "
                       "WHERE id = :id",
                       DB_ARGS(DB_TEXT(":n", e->name), DB_TEXT(":s", shortname), DB_INT(":m", muni),
                               DB_INT(":id", e->local)));
        if (rc == 1)
            return clash(a, e, e->name);
        a->rep->counts[RK_SCHOOLS].updated++;
    } else {
        int64_t id = 0;
        int rc = db_int(a->db, &id,
                        "SELECT id FROM institutions WHERE municipality_id = :m AND name = :n",
                        DB_ARGS(DB_INT(":m", muni), DB_TEXT(":n", e->name)));
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            a->failed = true;
            return;
        }
        if (rc == SQLITE_DONE) {
            rc = write(
                a,
                "INSERT INTO institutions (municipality_id, kind, name, short_name) "
                "VALUES (:m, 'school', :n, :s)",
                DB_ARGS(DB_INT(":m", muni), DB_TEXT(":n", e->name), DB_TEXT(":s", shortname)));
            if (rc != 0)
                return rc == 1 ? clash(a, e, e->name) : (void)0;
            id = db_last_id(a->db);
            a->rep->counts[RK_SCHOOLS].added++;
        }
        e->local = id;
    }
    e->extra = muni;
    ids_put(a, E_SCHOOL, e->sid, e->local, muni, digest, false);
}

static void apply_year(struct apply *a, struct ent *e)
{
    int64_t digest = roster_digest((const char *[]){e->name, e->start, e->end, NULL});
    if (e->preset_local)
        return;
    if (e->ids) {
        if (e->ids->digest == digest)
            return;
        int rc = write(a,
                       "UPDATE academic_years SET name = :n, starts_on = :s, ends_on = :e "
                       "WHERE id = :id",
                       DB_ARGS(DB_TEXT(":n", e->name), DB_TEXT(":s", e->start),
                               DB_TEXT(":e", e->end), DB_INT(":id", e->local)));
        if (rc == 1)
            return clash(a, e, e->name);
        a->rep->counts[RK_YEARS].updated++;
    } else {
        int64_t id = 0;
        int rc = db_int(a->db, &id, "SELECT id FROM academic_years WHERE name = :n",
                        DB_ARGS(DB_TEXT(":n", e->name)));
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            a->failed = true;
            return;
        }
        if (rc == SQLITE_DONE) {
            /* "2026/2027" gets the region's periods, as a year made by hand does */
            int first = atoi(e->name);
            char want[32];
            snprintf(want, sizeof(want), "%04d/%04d", first, first + 1);
            char err[256];
            if (a->opt->cfg != NULL && strcmp(want, e->name) == 0 && first > 1900) {
                id = school_create_year(a->db, a->opt->cfg, first, err, sizeof(err));
                if (id <= 0) {
                    a->failed = true;
                    return;
                }
            } else {
                rc = write(a,
                           "INSERT INTO academic_years (name, starts_on, ends_on) "
                           "VALUES (:n, :s, :e)",
                           DB_ARGS(DB_TEXT(":n", e->name), DB_TEXT(":s", e->start),
                                   DB_TEXT(":e", e->end)));
                if (rc != 0)
                    return rc == 1 ? clash(a, e, e->name) : (void)0;
                id = db_last_id(a->db);
            }
            a->rep->counts[RK_YEARS].added++;
        }
        e->local = id;
    }
    ids_put(a, E_YEAR, e->sid, e->local, 0, digest, false);
}

static void apply_class(struct apply *a, struct ent *e)
{
    int64_t inst = e->school->local, year = e->parent->local;
    char g[8], i[24], y[24];
    snprintf(g, sizeof(g), "%d", e->grade);
    snprintf(i, sizeof(i), "%lld", (long long)inst);
    snprintf(y, sizeof(y), "%lld", (long long)year);
    int64_t digest = roster_digest((const char *[]){g, e->letter, i, y, NULL});
    if (e->ids && !e->preset_local) {
        if (e->ids->digest == digest)
            return;
        int rc = write(a,
                       "UPDATE classes SET grade = :g, letter = :l, institution_id = :i, "
                       "year_id = :y WHERE id = :id",
                       DB_ARGS(DB_INT(":g", e->grade), DB_TEXT(":l", e->letter), DB_INT(":i", inst),
                               DB_INT(":y", year), DB_INT(":id", e->local)));
        if (rc == 1)
            return clash(a, e, e->name);
        a->rep->counts[RK_CLASSES].updated++;
    } else {
        char key[160];
        snprintf(key, sizeof(key), "%lld:%lld:%d:%s", (long long)inst, (long long)year, e->grade,
                 e->letter);
        void *found = smap_get(&a->m->classes_db, key);
        if (found != NULL) {
            e->local = (int64_t)(intptr_t)found;
        } else {
            int rc = write(a,
                           "INSERT INTO classes (institution_id, year_id, grade, letter) "
                           "VALUES (:i, :y, :g, :l)",
                           DB_ARGS(DB_INT(":i", inst), DB_INT(":y", year), DB_INT(":g", e->grade),
                                   DB_TEXT(":l", e->letter)));
            if (rc != 0)
                return rc == 1 ? clash(a, e, e->name) : (void)0;
            e->local = db_last_id(a->db);
            char *k = arena_strdup(a->m, key);
            if (k == NULL || smap_put(&a->m->classes_db, k, (void *)(intptr_t)e->local) != 0) {
                a->failed = true;
                return;
            }
            a->rep->counts[RK_CLASSES].added++;
        }
    }
    e->extra = inst;
    imap_put(&a->m->imported_classes, (uint64_t)e->local, 0, 1);
    ids_put(a, E_CLASS, e->sid, e->local, inst, digest, false);
}

/* ---- people ------------------------------------------------------------------------------------
 */

static int64_t account_of(struct apply *a, int64_t person)
{
    int64_t id = 0;
    int rc = db_int(a->db, &id, "SELECT id FROM accounts WHERE person_id = :p",
                    DB_ARGS(DB_INT(":p", person)));
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        a->failed = true;
    return rc == SQLITE_ROW ? id : 0;
}

/* A grant unless the account has it (a region-wide one has no unique key to lean on). */
static void grant(struct apply *a, int64_t account, uint32_t role, int64_t inst)
{
    if (write(a,
              "INSERT INTO role_grants (account_id, role, institution_id) "
              "SELECT :a, :r, nullif(:i, 0) WHERE NOT EXISTS (SELECT 1 FROM role_grants "
              "WHERE account_id = :a AND role = :r AND institution_id IS nullif(:i, 0))",
              DB_ARGS(DB_INT(":a", account), DB_TEXT(":r", role_name(role)), DB_INT(":i", inst))) !=
        0)
        a->failed = true;
}

/* A person leaves: the enrolment closed, links, staff rows, assignments and the roles the
 * import gives removed; the person, the account and the marks stay. */
static void leave(struct apply *a, const char *sid, int64_t person, uint32_t role)
{
    struct roster_report *rep = a->rep;
    if (imap_has(&a->m->current, (uint64_t)person, 0)) {
        if (write(a,
                  "UPDATE enrollments SET left_on = :d WHERE student_id = :p AND left_on IS NULL",
                  DB_ARGS(DB_TEXT(":d", a->m->today), DB_INT(":p", person))) != 0)
            return;
        rep->counts[RK_ENROLMENTS].left++;
        imap_del(&a->m->current, (uint64_t)person, 0);
        imap_del(&a->m->current, (uint64_t)person, 1);
    }
    if (write(a, "DELETE FROM guardians WHERE guardian_id = :p", DB_ARGS(DB_INT(":p", person))))
        return;
    rep->counts[RK_GUARDIAN_LINKS].left += db_changes(a->db);
    if (write(a, "DELETE FROM teaching_assignments WHERE teacher_id = :p",
              DB_ARGS(DB_INT(":p", person))))
        return;
    rep->counts[RK_ASSIGNMENTS].left += db_changes(a->db);
    if (write(a, "DELETE FROM staff WHERE person_id = :p", DB_ARGS(DB_INT(":p", person))) ||
        write(a, "UPDATE classes SET class_teacher_id = NULL WHERE class_teacher_id = :p",
              DB_ARGS(DB_INT(":p", person))) ||
        write(a,
              "DELETE FROM role_grants WHERE account_id IN (SELECT id FROM accounts WHERE "
              "person_id = :p) AND role IN ('student', 'parent', 'teacher', 'class_teacher', "
              "'school_admin')",
              DB_ARGS(DB_INT(":p", person))))
        return;
    rep->counts[kind_of_role(role)].left++;
    imap_put(&a->m->imported_people, (uint64_t)person, 0, 0);
    char k[2] = {E_USER, '\0'};
    if (write(a, "UPDATE roster_ids SET left = 1 WHERE kind = :k AND source_id = :s",
              DB_ARGS(DB_TEXT(":k", k), DB_TEXT(":s", sid))))
        return;
}

static int64_t user_digest(struct user *u)
{
    const char *parts[24 + 10];
    int n = 0;
    char role[16];
    snprintf(role, sizeof(role), "%u", u->role);
    parts[n++] = u->given, parts[n++] = u->family, parts[n++] = u->middle;
    parts[n++] = u->birth, parts[n++] = u->sex, parts[n++] = u->email, parts[n++] = u->phone;
    parts[n++] = role;
    parts[n++] = u->position ? u->position : "";
    for (int i = 0; i < u->norgs && n < 32; i++)
        parts[n++] = u->orgs[i]->sid;
    parts[n] = NULL;
    return roster_digest(parts);
}

static bool role_at_school(uint32_t role)
{
    return role == ROLE_TEACHER || role == ROLE_SCHOOL_ADMIN;
}

static void apply_user(struct apply *a, struct user *u)
{
    struct roster_report *rep = a->rep;
    struct ids_row *ids = u->e.ids;
    if (u->e.tbd) {
        if (ids && !ids->left)
            leave(a, u->e.sid, ids->local, (uint32_t)ids->extra);
        return;
    }
    int64_t digest = user_digest(u);
    if (ids && !ids->left && ids->digest == digest)
        return; /* unchanged */
    int64_t person, account;
    const char *birth = u->birth[0] ? u->birth : NULL;
    if (ids) {
        person = ids->local;
        if (write(a,
                  "UPDATE persons SET last_name = :l, first_name = :f, middle_name = :m, "
                  "birth_date = :b WHERE id = :id",
                  DB_ARGS(DB_TEXT(":l", u->family), DB_TEXT(":f", u->given),
                          DB_TEXT(":m", u->middle), DB_TEXT(":b", birth), DB_INT(":id", person))))
            return;
        account = account_of(a, person);
        if (account == 0) {
            char login[ACCOUNT_LOGIN_MAX + 1];
            if ((account = accounts_add_inactive(a->db, person, u->family, login)) < 0) {
                a->failed = true;
                return;
            }
            rep->counts[RK_ACCOUNTS].added++;
        }
        /* the roles and schools as the row says now */
        sqlite3_stmt *st = db_query(a->db, "SELECT institution_id FROM staff WHERE person_id = :p",
                                    DB_ARGS(DB_INT(":p", person)));
        int rc;
        int64_t gone[32];
        int ngone = 0;
        while (db_next(st, &rc)) {
            int64_t inst = sqlite3_column_int64(st, 0);
            bool keep = false;
            for (int i = 0; i < u->norgs; i++)
                keep |= role_at_school(u->role) && u->orgs[i]->local == inst;
            if (!keep && ngone < 32)
                gone[ngone++] = inst;
        }
        if (rc != SQLITE_DONE) {
            a->failed = true;
            return;
        }
        for (int i = 0; i < ngone; i++) {
            if (write(a, "DELETE FROM staff WHERE person_id = :p AND institution_id = :i",
                      DB_ARGS(DB_INT(":p", person), DB_INT(":i", gone[i]))) ||
                write(a,
                      "DELETE FROM role_grants WHERE account_id = :a AND institution_id = :i "
                      "AND role IN ('teacher', 'class_teacher', 'school_admin')",
                      DB_ARGS(DB_INT(":a", account), DB_INT(":i", gone[i]))))
                return;
            imap_del(&a->m->staff, (uint64_t)person, (uint64_t)gone[i]);
        }
        if (ids->extra != u->role && ids->extra != 0 &&
            write(a, "DELETE FROM role_grants WHERE account_id = :a AND role = :r",
                  DB_ARGS(DB_INT(":a", account), DB_TEXT(":r", role_name((uint32_t)ids->extra)))))
            return;
        if (ids->left)
            rep->counts[kind_of_role(u->role)].added++; /* back again */
        else
            rep->counts[kind_of_role(u->role)].updated++;
    } else {
        person = school_add_person(a->db, u->family, u->given, u->middle, birth);
        char login[ACCOUNT_LOGIN_MAX + 1];
        if (person < 0 || (account = accounts_add_inactive(a->db, person, u->family, login)) < 0) {
            a->failed = true;
            return;
        }
        rep->counts[kind_of_role(u->role)].added++;
        rep->counts[RK_ACCOUNTS].added++;
    }
    u->e.local = person;
    bool fresh = ids == NULL;
    if (role_at_school(u->role)) {
        const char *position = u->position && u->position[0] ? u->position
                               : u->role == ROLE_TEACHER     ? "учитель"
                                                             : "администратор";
        for (int i = 0; i < u->norgs; i++) {
            int64_t inst = u->orgs[i]->local;
            if (!imap_has(&a->m->staff, (uint64_t)person, (uint64_t)inst)) {
                if (write(a,
                          "INSERT INTO staff (person_id, institution_id, position) "
                          "VALUES (:p, :i, :pos)",
                          DB_ARGS(DB_INT(":p", person), DB_INT(":i", inst),
                                  DB_TEXT(":pos", position))))
                    return;
                imap_put(&a->m->staff, (uint64_t)person, (uint64_t)inst, 1);
            } else if (write(a,
                             "UPDATE staff SET position = :pos WHERE person_id = :p AND "
                             "institution_id = :i",
                             DB_ARGS(DB_INT(":p", person), DB_INT(":i", inst),
                                     DB_TEXT(":pos", position))))
                return;
            if (fresh) {
                if (accounts_grant(a->db, account, u->role, inst) != 0) {
                    a->failed = true;
                    return;
                }
            } else
                grant(a, account, u->role, inst);
        }
    } else if (fresh) {
        if (accounts_grant(a->db, account, u->role, 0) != 0) {
            a->failed = true;
            return;
        }
    } else
        grant(a, account, u->role, 0);
    if (fresh && (u->email[0] || u->phone[0])) {
        if (write(a, "INSERT INTO roster_contacts (person_id, phone, email) VALUES (:p, :ph, :e)",
                  DB_ARGS(DB_INT(":p", person), DB_TEXT(":ph", u->phone), DB_TEXT(":e", u->email))))
            return;
    } else if (!fresh)
        if (write(a,
                  "INSERT INTO roster_contacts (person_id, phone, email) VALUES (:p, :ph, :e) "
                  "ON CONFLICT (person_id) DO UPDATE SET phone = excluded.phone, "
                  "email = excluded.email",
                  DB_ARGS(DB_INT(":p", person), DB_TEXT(":ph", u->phone), DB_TEXT(":e", u->email))))
            return;
    imap_put(&a->m->imported_people, (uint64_t)person, 0, u->role);
    ids_put(a, E_USER, u->e.sid, person, u->role, digest, false);
}

/* ---- links, enrolments, assignments ---------------------------------------------------------- */

static void apply_links(struct apply *a)
{
    struct roster_model *m = a->m;
    struct imap want = {0}, students = {0};
    for (size_t i = 0; i < m->nusers; i++) {
        struct user *u = m->users[i];
        if (u->e.bad || u->e.tbd || u->e.local == 0)
            continue;
        if (u->role == ROLE_STUDENT)
            imap_put(&students, (uint64_t)u->e.local, 0, 1);
        for (int j = 0; j < u->nagents; j++) {
            struct user *g = u->role == ROLE_PARENT ? u : u->agents[j];
            struct user *s = u->role == ROLE_PARENT ? u->agents[j] : u;
            if (g->e.bad || s->e.bad || g->e.tbd || s->e.tbd || !g->e.local || !s->e.local)
                continue;
            struct user *other = u->agents[j];
            if (other->e.ghost && (other->e.ids->left || m->mode[RF_USERS] == FM_BULK))
                continue; /* gone */
            uint64_t gk = (uint64_t)g->e.local, sk = (uint64_t)s->e.local;
            if (imap_put(&want, gk, sk, 1) != 0) {
                a->failed = true;
                goto out;
            }
            if (imap_has(&m->links, gk, sk))
                continue;
            const char *rel = strcmp(g->sex, "female") == 0 ? "mother"
                              : strcmp(g->sex, "male") == 0 ? "father"
                                                            : "parent";
            if (write(a,
                      "INSERT INTO guardians (guardian_id, student_id, relation) "
                      "VALUES (:g, :s, :r)",
                      DB_ARGS(DB_INT(":g", g->e.local), DB_INT(":s", s->e.local),
                              DB_TEXT(":r", rel))))
                goto out;
            imap_put(&m->links, gk, sk, 1);
            a->rep->counts[RK_GUARDIAN_LINKS].added++;
        }
    }
    /* a bulk users file: the links of its students it no longer names go, when the guardian
     * came from an import too (a link made by hand to someone else stays) */
    if (m->mode[RF_USERS] == FM_BULK && !m->template)
        for (size_t i = 0; i < m->links.cap; i++) {
            if (!m->links.used[i])
                continue;
            uint64_t g = m->links.ka[i], s = m->links.kb[i];
            if (!imap_has(&students, s, 0) || imap_has(&want, g, s) ||
                imap_get(&m->imported_people, g, 0, 0) == 0)
                continue;
            if (write(a, "DELETE FROM guardians WHERE guardian_id = :g AND student_id = :s",
                      DB_ARGS(DB_INT(":g", (int64_t)g), DB_INT(":s", (int64_t)s))))
                goto out;
            a->rep->counts[RK_GUARDIAN_LINKS].left++;
        }
out:
    imap_free(&want);
    imap_free(&students);
}

/* Puts a student in class `want` (0: in none), closing the current enrolment first. */
static void place(struct apply *a, int64_t person, int64_t want, const char *since)
{
    struct roster_model *m = a->m;
    int64_t cur = imap_get(&m->current, (uint64_t)person, 1, 0);
    imap_put(&a->done, (uint64_t)person, 0, 1);
    if (cur == want)
        return;
    if (cur != 0) {
        if (write(a, "UPDATE enrollments SET left_on = :d WHERE id = :id",
                  DB_ARGS(DB_TEXT(":d", m->today),
                          DB_INT(":id", imap_get(&m->current, (uint64_t)person, 0, 0)))))
            return;
        imap_del(&m->current, (uint64_t)person, 0);
        imap_del(&m->current, (uint64_t)person, 1);
    }
    if (want != 0) {
        /* a move starts today; a first enrolment when the source says */
        if (write(a,
                  "INSERT INTO enrollments (student_id, class_id, enrolled_on) VALUES (:s, :c, :d)",
                  DB_ARGS(DB_INT(":s", person), DB_INT(":c", want),
                          DB_TEXT(":d", cur != 0 || !since ? m->today : since))))
            return;
        imap_put(&m->current, (uint64_t)person, 0, db_last_id(a->db));
        imap_put(&m->current, (uint64_t)person, 1, want);
    }
    a->rep->counts[RK_ENROLMENTS].added += cur == 0;
    a->rep->counts[RK_ENROLMENTS].moved += cur != 0 && want != 0;
    a->rep->counts[RK_ENROLMENTS].left += want == 0;
}

static int64_t section_class(struct ent *x)
{
    return x->ghost ? x->local : x->parent->local;
}

static int64_t class_school(struct ent *c)
{
    return c->ghost ? c->extra : c->school->local;
}

static void apply_enrolments(struct apply *a)
{
    struct roster_model *m = a->m;
    bool bulk = m->mode[RF_ENROLLMENTS] == FM_BULK && !m->template;
    struct imap assigned = {0};
    /* students: a removal first (a delta's tobedeleted row), then the class each is in now */
    for (size_t i = 0; i < m->nenrols; i++) {
        struct enrol *en = &m->enrols[i];
        struct user *u = en->user;
        if (en->bad || u == NULL || u->e.bad || u->e.tbd || u->enrol_bad || u->e.local == 0)
            continue;
        /* a person not in a bulk users file has left; one who left before stays out */
        if (u->e.ghost && (u->e.ids->left || m->mode[RF_USERS] == FM_BULK))
            continue;
        if (en->role == ROLE_STUDENT && en->cls->kind == E_CLASS) {
            if (imap_has(&a->done, (uint64_t)u->e.local, 0))
                continue;
            if (u->homeroom != NULL)
                place(a, u->e.local, u->homeroom->local, u->enrolled_on);
            else if (bulk || imap_get(&m->current, (uint64_t)u->e.local, 1, 0) == en->cls->local)
                place(a, u->e.local, 0, NULL);
            continue;
        }
        if (en->role != ROLE_TEACHER && en->role != ROLE_SCHOOL_ADMIN)
            continue;
        if (en->cls->kind == E_SECTION) {
            int64_t cls = section_class(en->cls);
            uint64_t key = (uint64_t)cls << 20 | (uint64_t)en->cls->subject_id;
            bool has = imap_has(&m->assign, (uint64_t)u->e.local, key);
            if (en->tbd) {
                if (has && write(a,
                                 "DELETE FROM teaching_assignments WHERE teacher_id = :t AND "
                                 "class_id = :c AND subject_id = :s AND group_id IS NULL",
                                 DB_ARGS(DB_INT(":t", u->e.local), DB_INT(":c", cls),
                                         DB_INT(":s", en->cls->subject_id))) == 0) {
                    imap_del(&m->assign, (uint64_t)u->e.local, key);
                    a->rep->counts[RK_ASSIGNMENTS].left++;
                }
                continue;
            }
            imap_put(&assigned, (uint64_t)u->e.local, key, 1);
            if (has)
                continue;
            if (write(a,
                      "INSERT INTO teaching_assignments (teacher_id, class_id, subject_id) "
                      "VALUES (:t, :c, :s)",
                      DB_ARGS(DB_INT(":t", u->e.local), DB_INT(":c", cls),
                              DB_INT(":s", en->cls->subject_id))))
                continue;
            imap_put(&m->assign, (uint64_t)u->e.local, key, 1);
            a->rep->counts[RK_ASSIGNMENTS].added++;
        } else if (en->primary) { /* the class teacher */
            if (en->tbd) {
                write(a,
                      "UPDATE classes SET class_teacher_id = NULL WHERE id = :c AND "
                      "class_teacher_id = :t",
                      DB_ARGS(DB_INT(":c", en->cls->local), DB_INT(":t", u->e.local)));
                continue;
            }
            if (write(a,
                      "UPDATE classes SET class_teacher_id = :t WHERE id = :c AND "
                      "class_teacher_id IS NOT :t",
                      DB_ARGS(DB_INT(":c", en->cls->local), DB_INT(":t", u->e.local))))
                continue;
            if (db_changes(a->db) > 0) {
                int64_t account = account_of(a, u->e.local);
                if (account > 0)
                    grant(a, account, ROLE_CLASS_TEACHER, class_school(en->cls));
            }
        }
    }
    /* students these files say nothing about, in a bulk file: out of the classes imported */
    for (size_t i = 0; i < m->nusers; i++) {
        struct user *u = m->users[i];
        if (u->e.bad || u->enrol_bad)
            imap_put(&a->done, (uint64_t)u->e.local, 0, 1); /* refused: left alone */
    }
    if (bulk) {
        int64_t *gone = NULL;
        size_t ngone = 0, cap = 0;
        for (size_t i = 0; i < m->current.cap; i++) {
            if (!m->current.used[i] || m->current.kb[i] != 1)
                continue;
            uint64_t person = m->current.ka[i];
            if (imap_has(&a->done, person, 0) ||
                imap_get(&m->imported_people, person, 0, 0) != ROLE_STUDENT ||
                !imap_has(&m->imported_classes, (uint64_t)m->current.vals[i], 0))
                continue;
            if (ngone == cap) {
                cap = cap ? cap * 2 : 256;
                int64_t *g = realloc(gone, cap * sizeof(*g));
                if (g == NULL) {
                    a->failed = true;
                    break;
                }
                gone = g;
            }
            gone[ngone++] = (int64_t)person;
        }
        for (size_t i = 0; i < ngone && !a->failed; i++)
            place(a, gone[i], 0, NULL);
        free(gone);
        /* assignments of imported teachers in imported classes that the file no longer has */
        for (size_t i = 0; i < m->assign.cap && !a->failed; i++) {
            if (!m->assign.used[i])
                continue;
            uint64_t t = m->assign.ka[i], key = m->assign.kb[i];
            if (imap_has(&assigned, t, key) || imap_get(&m->imported_people, t, 0, 0) == 0 ||
                !imap_has(&m->imported_classes, key >> 20, 0))
                continue;
            if (write(a,
                      "DELETE FROM teaching_assignments WHERE teacher_id = :t AND class_id = :c "
                      "AND subject_id = :s AND group_id IS NULL",
                      DB_ARGS(DB_INT(":t", (int64_t)t), DB_INT(":c", (int64_t)(key >> 20)),
                              DB_INT(":s", (int64_t)(key & 0xfffff)))))
                break;
            a->rep->counts[RK_ASSIGNMENTS].left++;
        }
    }
    imap_free(&assigned);
}

/* ---- the whole ------------------------------------------------------------------------------- */

int roster_apply(struct roster_model *m, struct db *db, struct roster_report *rep,
                 const struct roster_options *opt)
{
    /* a dry run counts what the valid rows would change, errors or not */
    if (rep->errors_total > 0 && !opt->skip_invalid && !opt->dry_run)
        return 1;
    struct apply a = {.m = m, .db = db, .rep = rep, .opt = opt};
    /* a region is a transaction of a few hundred megabytes: pages kept rather than spilled */
    if (m->nusers > 10000)
        db_cache_mib(db, 512);
    /* organisations, years, courses, classes: in the order they refer to each other */
    static const char order[] = {E_DISTRICT, E_SCHOOL, E_YEAR,   E_TERM,
                                 E_COURSE,   E_CLASS,  E_SECTION};
    for (size_t k = 0; k < sizeof(order) && !a.failed && !a.refused; k++)
        for (size_t i = 0; i < m->nlist && !a.failed && !a.refused; i++) {
            struct ent *e = m->list[i];
            if (e->kind != order[k] || e->bad || e->ghost || e->tbd)
                continue;
            switch (e->kind) {
            case E_DISTRICT:
                apply_district(&a, e);
                break;
            case E_SCHOOL:
                apply_school(&a, e);
                break;
            case E_YEAR:
                apply_year(&a, e);
                break;
            case E_TERM:
                if (!e->ids || e->ids->local != e->parent->local)
                    ids_put(&a, E_TERM, e->sid, e->parent->local, 0, 0, false);
                e->local = e->parent->local;
                break;
            case E_COURSE:
                if (!e->ids || e->ids->local != e->subject_id)
                    ids_put(&a, E_COURSE, e->sid, e->subject_id, 0, 0, false);
                break;
            case E_CLASS:
                apply_class(&a, e);
                break;
            case E_SECTION: {
                int64_t extra = class_school(e->parent) << 20 | e->subject_id;
                e->local = section_class(e);
                if (!e->ids || e->ids->local != e->local || e->ids->extra != extra)
                    ids_put(&a, E_SECTION, e->sid, e->local, extra, 0, false);
                break;
            }
            }
        }
    /* people */
    for (size_t i = 0; i < m->nusers && !a.failed && !a.refused; i++) {
        struct user *u = m->users[i];
        if (!u->e.bad)
            apply_user(&a, u);
        if (opt->progress && ((i + 1) % 5000 == 0 || i + 1 == m->nusers))
            opt->progress("people", (long)i + 1, (long)m->nusers);
    }
    /* a bulk users file: whoever an import brought and it no longer names has left */
    if (m->mode[RF_USERS] == FM_BULK && !m->template && !a.failed && !a.refused)
        for (size_t i = 0; i < m->ids.cap && !a.failed; i++) {
            const char *key = m->ids.keys[i];
            if (key == NULL || key[0] != E_USER)
                continue;
            struct ids_row *row = m->ids.vals[i];
            struct ent *e = smap_get(&m->ents, key);
            if (row->left || (e != NULL && !e->ghost))
                continue;
            leave(&a, key + 1, row->local, (uint32_t)row->extra);
        }
    if (!a.failed && !a.refused)
        apply_links(&a);
    if (!a.failed && !a.refused)
        apply_enrolments(&a);
    if (opt->progress)
        opt->progress("enrolments", 1, 1);
    imap_free(&a.done);
    if (a.failed || db_failure() != 0)
        return -1;
    return a.refused ? 1 : 0;
}
