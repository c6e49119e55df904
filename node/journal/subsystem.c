/*
 * The journal subsystem's registration (subsystem.h): the timetable, marks, attendance,
 * homework, absence notices, the grid and the diary, the thematic plan, the teacher's day and
 * the class teacher's summary; control forms seeded from the configuration at every start; the
 * teacher's grid (grid.js), day and plans (teacher.js), the student's, parent's and medic's pages.
 */
#include "journal/journal.h"
#include "cache/cache.h"
#include "subsystem.h"

/* Its route tables, one per file. */
extern const struct route timetable_routes[];
extern const struct route marks_routes[];
extern const struct route attendance_routes[];
extern const struct route notices_routes[];
extern const struct route homework_routes[];
extern const struct route diary_routes[];
extern const struct route grid_routes[];
extern const struct route plan_routes[];
extern const struct route day_routes[];
extern const struct route summary_routes[];

const struct subsystem journal_subsystem = {
    .name = "journal",
    .routes =
        (const struct route *const[]){
            timetable_routes,
            marks_routes,
            attendance_routes,
            notices_routes,
            homework_routes,
            diary_routes,
            grid_routes,
            plan_routes,
            day_routes,
            summary_routes,
            NULL,
        },
    .migrations =
        (const struct migration[]){
            {3, "node/journal/journal.sql"},
            {9, "node/journal/homework_files.sql"},
            {10, "node/journal/medical_notes.sql"},
            {27, "node/journal/handin_seen.sql"},
            {29, "node/journal/plan_index.sql"},
            {0},
        },
    /* What the cached diary, grid and marks read: a row's class, or its lesson's. */
    .cache_watches =
        (const struct cache_watch[]){
            {"lessons", "ROW.class_id", NULL},
            {"marks", "class_id", CACHE_BY_LESSON},
            {"attendance", "class_id", CACHE_BY_LESSON},
            {"homework", "class_id", CACHE_BY_LESSON},
            {"homework_submissions", "l.class_id", CACHE_BY_HOMEWORK},
            {"period_marks", "class_id", "FROM enrollments WHERE student_id = ROW.student_id"},
            {"bells", "0", NULL},
            {"control_forms", "0", NULL},
            {0},
        },
    .storage_init = journal_seed_forms,
    .pages =
        (const struct page[]){
            {"/journal", "web_page_journal"},
            {"/diary/{id}", "web_page_diary"},
            {"/marks/{id}", "web_page_marks"},
            {"/notices", "web_page_notices"},
            {"/students/{id}/notices", "web_page_student_notices"},
            {"/medic", "web_page_medic"},
            {"/medic/classes/{id}", "web_page_medic_class"},
            {"/homework/{id}", "web_page_homework"},
            {"/homework/{id}/submissions", "web_page_homework_submissions"},
            {"/plan/{id}", "web_page_plan"},
            {"/day", "web_page_teacher_day"},
            {"/classes/{id}/summary", "web_page_class_summary"},
            {"/plans", "web_page_plans"},
            {0},
        },
    .scripts = (const char *const[]){"grid.js", "family.js", "journal.js", "notices.js",
                                     "teacher.js", NULL},
};
