/*
 * Authorization rules (see authz.h). Each check is one or two indexed point queries inside
 * the request's transaction.
 */
#include "authz.h"

#include <sqlite3.h>

bool caller_has(const struct req *r, uint32_t role, int64_t institution_id)
{
    for (int i = 0; i < r->caller.ngrants; i++) {
        const struct grant *g = &r->caller.grants[i];
        if (g->role == role && (g->institution_id == 0 || g->institution_id == institution_id))
            return true;
    }
    return false;
}

bool caller_is_admin(const struct req *r)
{
    return caller_has(r, ROLE_ADMIN, 0);
}

/* True when the caller holds a role scoped to this institution (staff of it). Region-wide
 * grants such as parent or student do not count: they see only their own records. */
static bool caller_works_at(const struct req *r, int64_t institution_id)
{
    for (int i = 0; i < r->caller.ngrants; i++)
        if (r->caller.grants[i].institution_id == institution_id)
            return true;
    return false;
}

static int deny(struct req *r, int code)
{
    if (code == -1)
        reply_error(r, 404, "not_found", "no such record");
    else if (code == -2)
        reply_db_error(r);
    else
        reply_error(r, 403, "forbidden", "this record is not yours to %s",
                    r->route && r->route->writes ? "change" : "see");
    return -1;
}

int authz_institution_or_respond(struct req *r, int64_t institution_id, enum authz_op op)
{
    int e = db_exists(r->db, "SELECT 1 FROM institutions WHERE id = :id",
                      DB_ARGS(DB_INT(":id", institution_id)));
    if (e != 1)
        return deny(r, e == 0 ? -1 : -2);
    if (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, institution_id))
        return 0;
    if (op == AUTHZ_READ && caller_works_at(r, institution_id))
        return 0;
    return deny(r, 0);
}

/* Institution of a class; -1 when missing, -2 on error. */
static int64_t class_institution(struct req *r, int64_t class_id, int64_t *class_teacher)
{
    sqlite3_stmt *st = db_query(
        r->db, "SELECT institution_id, coalesce(class_teacher_id, 0) FROM classes WHERE id = :c",
        DB_ARGS(DB_INT(":c", class_id)));
    int64_t inst = -1;
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        inst = sqlite3_column_int64(st, 0);
        if (class_teacher)
            *class_teacher = sqlite3_column_int64(st, 1);
    }
    return rc == SQLITE_DONE ? inst : -2;
}

static int teaches_class(struct req *r, int64_t class_id)
{
    int rc = db_exists(r->db,
                       "SELECT 1 FROM teaching_assignments WHERE teacher_id = :t AND class_id = :c",
                       DB_ARGS(DB_INT(":t", r->caller.person_id), DB_INT(":c", class_id)));
    return rc < 0 ? -2 : rc;
}

int authz_class_or_respond(struct req *r, int64_t class_id, enum authz_op op)
{
    int64_t teacher = 0;
    int64_t inst = class_institution(r, class_id, &teacher);
    if (inst < 0)
        return deny(r, (int)inst);
    if (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, inst))
        return 0;
    if (op == AUTHZ_WRITE)
        return deny(r, 0);
    if (caller_has(r, ROLE_MEDIC, inst)) /* the school's medic sees its classes' students */
        return 0;
    if (r->caller.person_id != 0 && teacher == r->caller.person_id &&
        caller_has(r, ROLE_CLASS_TEACHER, inst))
        return 0;
    if (caller_has(r, ROLE_TEACHER, inst)) {
        int t = teaches_class(r, class_id);
        if (t < 0)
            return deny(r, t);
        if (t == 1)
            return 0;
    }
    return deny(r, 0);
}

int authz_student(struct req *r, int64_t student_id, enum authz_op op)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT c.id, c.institution_id, coalesce(c.class_teacher_id, 0) "
                                "FROM enrollments e JOIN classes c ON c.id = e.class_id "
                                "WHERE e.student_id = :s AND e.left_on IS NULL",
                                DB_ARGS(DB_INT(":s", student_id)));
    int64_t class_id = 0, inst = 0, class_teacher = 0;
    int rc;
    while (db_next(st, &rc)) {
        if (class_id != 0)
            continue; /* the first current enrollment decides */
        class_id = sqlite3_column_int64(st, 0);
        inst = sqlite3_column_int64(st, 1);
        class_teacher = sqlite3_column_int64(st, 2);
    }
    if (rc != SQLITE_DONE)
        return -2;
    if (class_id == 0)
        return -1;

    if (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, inst))
        return 1;
    if (op == AUTHZ_WRITE)
        return 0;
    if (r->caller.person_id == 0)
        return 0;
    if (r->caller.person_id == student_id)
        return 1;
    if (caller_has(r, ROLE_PARENT, 0)) {
        int g = authz_guardian(r, r->caller.person_id, student_id);
        if (g == 1)
            return 1;
        if (g < 0)
            return -2;
    }
    if (caller_has(r, ROLE_MEDIC, inst))
        return 1;
    if (class_teacher == r->caller.person_id && caller_has(r, ROLE_CLASS_TEACHER, inst))
        return 1;
    if (caller_has(r, ROLE_TEACHER, inst)) {
        int t = teaches_class(r, class_id);
        if (t != 0)
            return t == 1 ? 1 : -2;
    }
    return 0;
}

int authz_student_or_respond(struct req *r, int64_t student_id, enum authz_op op)
{
    int a = authz_student(r, student_id, op);
    return a == 1 ? 0 : deny(r, a);
}

int64_t authz_admin_school_of(struct req *r, int64_t person_id)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT institution_id FROM staff WHERE person_id = :p "
                 "UNION SELECT c.institution_id FROM enrollments e JOIN classes c "
                 "  ON c.id = e.class_id WHERE e.student_id = :p AND e.left_on IS NULL "
                 "UNION SELECT c.institution_id FROM guardians g JOIN enrollments e "
                 "  ON e.student_id = g.student_id AND e.left_on IS NULL "
                 "  JOIN classes c ON c.id = e.class_id WHERE g.guardian_id = :p "
                 "UNION SELECT institution_id FROM role_grants rg JOIN accounts a "
                 "  ON a.id = rg.account_id WHERE a.person_id = :p AND institution_id IS NOT NULL",
                 DB_ARGS(DB_INT(":p", person_id)));
    int64_t school = 0;
    int rc;
    while (db_next(st, &rc))
        if (school == 0 && caller_has(r, ROLE_SCHOOL_ADMIN, sqlite3_column_int64(st, 0)))
            school = sqlite3_column_int64(st, 0);
    return rc == SQLITE_DONE ? school : -1;
}

int authz_person_or_respond(struct req *r, int64_t person_id, enum authz_op op)
{
    int e =
        db_exists(r->db, "SELECT 1 FROM persons WHERE id = :id", DB_ARGS(DB_INT(":id", person_id)));
    if (e != 1)
        return deny(r, e == 0 ? -1 : -2);
    if (caller_is_admin(r))
        return 0;
    if (op == AUTHZ_READ && person_id == r->caller.person_id)
        return 0;
    /* A school admin reaches persons tied to one of their institutions. */
    int64_t school = authz_admin_school_of(r, person_id);
    if (school < 0)
        return deny(r, -2);
    if (school > 0)
        return 0;
    if (op == AUTHZ_READ) {
        int s = authz_student(r, person_id, AUTHZ_READ);
        if (s == 1)
            return 0;
        if (s == -2)
            return deny(r, -2);
    }
    return deny(r, 0);
}

/* 1 when the caller is assigned to teach `subject` in `class`. */
static int teaches_subject(struct req *r, int64_t class_id, int64_t subject_id)
{
    int rc = db_exists(r->db,
                       "SELECT 1 FROM teaching_assignments WHERE teacher_id = :t "
                       "AND class_id = :c AND subject_id = :s",
                       DB_ARGS(DB_INT(":t", r->caller.person_id), DB_INT(":c", class_id),
                               DB_INT(":s", subject_id)));
    return rc < 0 ? -2 : rc;
}

int authz_lesson_or_respond(struct req *r, int64_t lesson_id, enum authz_op op,
                            struct lesson_ref *out)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT l.class_id, l.subject_id, coalesce(l.group_id, 0), l.teacher_id, "
                 "coalesce(l.replacement_id, 0), c.institution_id, l.period_id, l.cancelled, "
                 "coalesce(c.class_teacher_id, 0) FROM lessons l JOIN classes c ON c.id = "
                 "l.class_id WHERE l.id = :id",
                 DB_ARGS(DB_INT(":id", lesson_id)));
    struct lesson_ref l = {0};
    int64_t class_teacher = 0;
    int rc;
    while (db_next(st, &rc)) { /* by primary key: one row at most */
        l = (struct lesson_ref){
            .id = lesson_id,
            .class_id = sqlite3_column_int64(st, 0),
            .subject_id = sqlite3_column_int64(st, 1),
            .group_id = sqlite3_column_int64(st, 2),
            .teacher_id = sqlite3_column_int64(st, 3),
            .replacement_id = sqlite3_column_int64(st, 4),
            .institution_id = sqlite3_column_int64(st, 5),
            .period_id = sqlite3_column_int64(st, 6),
            .cancelled = sqlite3_column_int(st, 7) != 0,
        };
        class_teacher = sqlite3_column_int64(st, 8);
    }
    if (rc != SQLITE_DONE || l.id == 0)
        return deny(r, rc == SQLITE_DONE ? -1 : -2);
    if (out)
        *out = l;
    int64_t me = r->caller.person_id;
    bool teacher = me != 0 && caller_has(r, ROLE_TEACHER, l.institution_id);
    if (op == AUTHZ_WRITE) {
        if (teacher && (me == l.teacher_id || me == l.replacement_id))
            return 0;
        int t = teacher ? teaches_subject(r, l.class_id, l.subject_id) : 0;
        return t == 1 ? 0 : deny(r, t < 0 ? -2 : 0);
    }
    if (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, l.institution_id))
        return 0;
    if (me != 0 && me == class_teacher && caller_has(r, ROLE_CLASS_TEACHER, l.institution_id))
        return 0;
    if (teacher && (me == l.teacher_id || me == l.replacement_id))
        return 0;
    int t = teacher ? teaches_class(r, l.class_id) : 0;
    return t == 1 ? 0 : deny(r, t < 0 ? -2 : 0);
}

/* The class's admins and its class teacher; with a subject (not 0), also who teaches it there. */
static int class_staff_or_respond(struct req *r, int64_t class_id, int64_t subject_id)
{
    int64_t class_teacher = 0;
    int64_t inst = class_institution(r, class_id, &class_teacher);
    if (inst < 0)
        return deny(r, (int)inst);
    if (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, inst))
        return 0;
    int64_t me = r->caller.person_id;
    if (me != 0 && me == class_teacher && caller_has(r, ROLE_CLASS_TEACHER, inst))
        return 0;
    if (subject_id == 0)
        return deny(r, 0);
    int t = caller_has(r, ROLE_TEACHER, inst) ? teaches_subject(r, class_id, subject_id) : 0;
    return t == 1 ? 0 : deny(r, t < 0 ? -2 : 0);
}

int authz_journal_or_respond(struct req *r, int64_t class_id, int64_t subject_id)
{
    return class_staff_or_respond(r, class_id, subject_id);
}

int authz_teaching_or_respond(struct req *r, int64_t class_id, int64_t subject_id, bool admins)
{
    int64_t class_teacher = 0;
    int64_t inst = class_institution(r, class_id, &class_teacher);
    if (inst < 0)
        return deny(r, (int)inst);
    if (admins && (caller_is_admin(r) || caller_has(r, ROLE_SCHOOL_ADMIN, inst)))
        return 0;
    int t = caller_has(r, ROLE_TEACHER, inst) ? teaches_subject(r, class_id, subject_id) : 0;
    return t == 1 ? 0 : deny(r, t < 0 ? -2 : 0);
}

int authz_homeroom_or_respond(struct req *r, int64_t class_id)
{
    return class_staff_or_respond(r, class_id, 0);
}

/* 1 when `person` teaches the student's current class or leads it. */
static int teaches_student(struct req *r, int64_t person, int64_t student)
{
    int rc =
        db_exists(r->db,
                  "SELECT 1 FROM enrollments e JOIN classes c ON c.id = e.class_id WHERE "
                  "e.student_id = :s AND e.left_on IS NULL AND (c.class_teacher_id = :p OR EXISTS "
                  "(SELECT 1 FROM teaching_assignments t WHERE t.class_id = c.id AND "
                  "t.teacher_id = :p))",
                  DB_ARGS(DB_INT(":s", student), DB_INT(":p", person)));
    return rc < 0 ? -2 : rc;
}

int authz_guardian(struct req *r, int64_t person, int64_t student)
{
    return db_exists(r->db, "SELECT 1 FROM guardians WHERE guardian_id = :g AND student_id = :s",
                     DB_ARGS(DB_INT(":g", person), DB_INT(":s", student)));
}

const char *authz_message_pair_or_respond(struct req *r, int64_t student_id, int64_t other_id)
{
    int64_t me = r->caller.person_id;
    if (me == 0 || other_id == me) {
        reply_error(r, 400, "bad_request", "a thread needs another person");
        return NULL;
    }
    int e =
        db_exists(r->db, "SELECT 1 FROM persons WHERE id = :id", DB_ARGS(DB_INT(":id", other_id)));
    int s = authz_student(r, student_id, AUTHZ_READ);
    if (e < 0 || s == -2) {
        deny(r, -2);
        return NULL;
    }
    if (e == 0 || s == -1) {
        deny(r, -1);
        return NULL;
    }
    if (s == 0) {
        deny(r, 0); /* one may not write about a student one may not see */
        return NULL;
    }
    int me_teaches = teaches_student(r, me, student_id);
    int other_teaches = teaches_student(r, other_id, student_id);
    int me_guardian = authz_guardian(r, me, student_id);
    int other_guardian = authz_guardian(r, other_id, student_id);
    if (me_teaches < 0 || other_teaches < 0 || me_guardian < 0 || other_guardian < 0) {
        deny(r, -2);
        return NULL;
    }
    if ((me_guardian && other_teaches) || (me_teaches && other_guardian))
        return "parent_teacher";
    if ((me_teaches && other_id == student_id) || (me == student_id && other_teaches))
        return "teacher_student";
    reply_error(r, 403, "forbidden",
                "messages go between a student's parents or the student "
                "and the student's teachers");
    return NULL;
}
