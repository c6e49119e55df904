/*
 * The journal subsystem's registration (subsystem.h): the timetable, marks, attendance,
 * homework, absence notices, the grid and the diary, the thematic plan; control forms seeded
 * from the configuration at every start; the teacher's, student's, parent's and medic's pages.
 */
#include "journal/journal.h"
#include "subsystem.h"

/* Its route tables, one per file. */
extern const struct route timetable_routes[];
extern const struct route marks_routes[];
extern const struct route journal_view_routes[];
extern const struct route plan_routes[];
extern const struct route homework_routes[];

const struct subsystem journal_subsystem = {
    .name = "journal",
    .routes =
        (const struct route *const[]){
            timetable_routes,
            marks_routes,
            journal_view_routes,
            plan_routes,
            homework_routes,
            NULL,
        },
    .migrations =
        (const struct migration[]){
            {3, "node/journal/journal.sql"},
            {9, "node/journal/homework_files.sql"},
            {10, "node/journal/medical_notes.sql"},
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
            {0},
        },
    .scripts = (const char *const[]){"journal.js", "notices.js", NULL},
};
