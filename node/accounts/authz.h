/*
 * Authorization: the one place that answers "may this caller see or change this record".
 * Every handler that touches a record asks here before reading or writing it; later
 * subsystems add their record kinds here rather than deciding on their own.
 *
 * The rules (PRODUCT.md section 3.1):
 *   region admin         everything in the region
 *   school admin         everything in their institutions
 *   teacher              reads students of the classes they teach
 *   class teacher        reads students of their own classes
 *   medic                reads students of their institutions
 *   student              reads themselves
 *   parent               reads their children
 * Writes to school structure and people: region admin, or school admin of the institution.
 *
 * The *_or_respond functions answer 404 (no such record) or 403 (not yours) themselves and
 * return -1; 0 means go ahead. They run inside the request's transaction.
 */
#ifndef MES_AUTHZ_H
#define MES_AUTHZ_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"

enum authz_op { AUTHZ_READ, AUTHZ_WRITE };

/* True when the caller holds `role` region-wide, or for `institution_id` (0: region-wide
 * only). */
bool caller_has(const struct req *r, uint32_t role, int64_t institution_id);
bool caller_is_admin(const struct req *r);

/* Institutions' inner records (classes, staff): read by the region admin and by anyone holding
 * a role scoped to that institution; written by the region admin or its school admin. */
int authz_institution_or_respond(struct req *r, int64_t institution_id, enum authz_op op);

/* Classes: resolved to their institution; teachers of the class, its class teacher and the
 * school's medic may read it. */
int authz_class_or_respond(struct req *r, int64_t class_id, enum authz_op op);

/* Students (persons with an enrollment): the rules above. */
int authz_student_or_respond(struct req *r, int64_t student_id, enum authz_op op);
/* The same without answering: 1 allowed, 0 denied, -1 no such student, -2 database error. */
int authz_student(struct req *r, int64_t student_id, enum authz_op op);
/* 1 when `person` is a parent or guardian of the student, 0 not, -1 database error. */
int authz_guardian(struct req *r, int64_t person, int64_t student);

/* The first institution the caller administers (school admin) that `person_id` is tied to:
 * works at, studies at, has a child at, or holds a role at. 0 none, -1 database error. */
int64_t authz_admin_school_of(struct req *r, int64_t person_id);
/* Persons in general (staff, parents): admin; school admin of an institution the person
 * works or studies at, or whose child studies at; the person themselves for reads. */
int authz_person_or_respond(struct req *r, int64_t person_id, enum authz_op op);

/* A dated lesson as authorization sees it. */
struct lesson_ref {
    int64_t id, class_id, subject_id, group_id, teacher_id, replacement_id, institution_id;
    int64_t period_id;
    bool cancelled;
};

/* Lessons. READ: the region admin, the school's admin, teachers of the class, its class
 * teacher. WRITE (topic, marks, attendance, homework): the lesson's teacher or its
 * replacement, or a teacher assigned to the class and subject. Fills *out when given. */
int authz_lesson_or_respond(struct req *r, int64_t lesson_id, enum authz_op op,
                            struct lesson_ref *out);

/* The journal of a class and subject: read by teachers assigned to that class and subject,
 * the class teacher, the school's admin and the region admin. */
int authz_journal_or_respond(struct req *r, int64_t class_id, int64_t subject_id);

/* Teaching a class and subject: a teacher assigned to them (writes period marks and the
 * calendar-thematic plan). The school's admin and the region admin may too when `admins`. */
int authz_teaching_or_respond(struct req *r, int64_t class_id, int64_t subject_id, bool admins);

/* A class as its class teacher («классный руководитель») leads it, across all its subjects:
 * the class teacher of this very class, the school's admin and the region admin. Teachers of
 * the class are not (they see their own subjects' journals). */
int authz_homeroom_or_respond(struct req *r, int64_t class_id);

/* Messages: who may open a thread with whom about a student. A parent of the student with a
 * teacher or the class teacher of the student's class ("parent_teacher"; the child does not
 * see it), or such a teacher with the student ("teacher_student"). Returns the kind, or NULL
 * after answering 400/403/404. */
const char *authz_message_pair_or_respond(struct req *r, int64_t student_id, int64_t other_id);

#endif
