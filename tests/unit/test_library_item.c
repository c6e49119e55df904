/*
 * Unit tests of what a library item is (node/library/item.c): the item types and question
 * kinds are the lists library.sql's CHECKs name; an item's fields and a test's questions are
 * checked alike for an author and for another machine, so a channel or a contributed item
 * whose question has one option, or a key naming no option, is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "library/library.h"
#include "log.h"
#include "scratch_db.h"

static struct mes_config cfg;

static char path[64];

/* The quoted names of the first "COLUMN ... IN (...)" in table `table`'s SQL as the migrated
 * database holds it, as a JSON list. */
static json_t *check_list(struct db *db, const char *table, const char *column)
{
    char *sql = NULL;
    assert_int_equal(db_text(db, &sql, "SELECT sql FROM sqlite_schema WHERE name = :t",
                             DB_ARGS(DB_TEXT(":t", table))),
                     SQLITE_ROW);
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "CHECK (%s IN (", column);
    const char *p = strstr(sql, pattern);
    assert_non_null(p);
    p += strlen(pattern);
    const char *end = strchr(p, ')');
    assert_non_null(end);
    json_t *names = json_array();
    while ((p = strchr(p, '\'')) != NULL && p < end) {
        const char *close = strchr(p + 1, '\'');
        assert_non_null(close);
        json_array_append_new(names, json_stringn(p + 1, (size_t)(close - p - 1)));
        p = close + 1;
    }
    free(sql);
    return names;
}

static json_t *c_list(const char *const *list)
{
    json_t *names = json_array();
    for (; *list != NULL; list++)
        json_array_append_new(names, json_string(*list));
    return names;
}

static void test_types_and_kinds_are_the_schemas(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    json_t *sql = check_list(db, "library_items", "type"), *c = c_list(library_item_types);
    assert_int_equal(json_array_size(c), 8);
    assert_true(json_equal(sql, c));
    json_decref(sql);
    json_decref(c);
    sql = check_list(db, "library_questions", "kind");
    c = c_list(library_question_kinds);
    assert_int_equal(json_array_size(c), 4);
    assert_true(json_equal(sql, c));
    json_decref(sql);
    json_decref(c);
    assert_true(library_type_ok("workbook"));
    assert_false(library_type_ok("poster"));
    assert_false(library_type_ok(NULL));
    scratch_db_remove(db, path);
}

/* Checks question `text` (JSON); the result, with the reason in `why`. */
static int check(const char *text, struct library_question *q, char why[128])
{
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    why[0] = '\0';
    int rc = library_question_check(j, q, why, 128);
    if (rc == 0) { /* kind and prompt point into j: keep them for the caller's asserts */
        static char kind[16], prompt[64];
        snprintf(kind, sizeof(kind), "%s", q->kind);
        snprintf(prompt, sizeof(prompt), "%s", q->prompt);
        q->kind = kind;
        q->prompt = prompt;
    }
    json_decref(j);
    return rc;
}

static void test_good_questions_are_normalized(void **state)
{
    (void)state;
    struct library_question q;
    char why[128];
    assert_int_equal(check("{\"kind\": \"single\", \"prompt\": \"2+2?\", \"options\": [\"3\", "
                           "\"4\"], \"answer\": [1]}",
                           &q, why),
                     0);
    assert_string_equal(q.kind, "single");
    assert_string_equal(q.options, "[\"3\",\"4\"]");
    assert_string_equal(q.answer, "[1]");
    assert_int_equal(q.points, 1); /* points default to 1 */
    library_question_free(&q);
    assert_int_equal(check("{\"kind\": \"multiple\", \"prompt\": \"p\", \"options\": [\"a\", "
                           "\"b\", \"c\"], \"answer\": [2, 0], \"points\": 5, \"id\": 7}",
                           &q, why),
                     0);
    assert_string_equal(q.answer, "[2,0]");
    assert_int_equal(q.points, 5);
    library_question_free(&q);
    assert_int_equal(
        check("{\"kind\": \"text\", \"prompt\": \"x - 7 = 0\", \"answer\": [\"7\"]}", &q, why), 0);
    assert_string_equal(q.options, "[]");
    assert_string_equal(q.answer, "[\"7\"]");
    library_question_free(&q);
}

static void test_bad_questions_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *q, *why;
    } bad[] = {
        /* What exchanges used to let through. */
        {"{\"kind\": \"single\", \"prompt\": \"p\", \"options\": [\"a\"], \"answer\": [0]}",
         "2-20 options"},
        {"{\"kind\": \"single\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": [2]}",
         "names no option"},
        {"{\"kind\": \"multiple\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "[0, -1]}",
         "names no option"},
        {"{\"kind\": \"single\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": [0, "
         "1]}",
         "one option index"},
        {"{\"kind\": \"single\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "[\"a\"]}",
         "names no option"},
        {"{\"kind\": \"single\", \"prompt\": \"p\", \"options\": [\"a\", \"\"], \"answer\": [0]}",
         "1-500 characters"},
        {"{\"kind\": \"text\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "[\"a\"]}",
         "no options"},
        {"{\"kind\": \"text\", \"prompt\": \"p\", \"answer\": [1]}", "1-200 characters"},
        {"{\"kind\": \"single\", \"prompt\": \"p\", \"options\": [], \"answer\": [0]}",
         "2-20 options"},
        /* What both refused. */
        {"{\"kind\": \"essay\", \"prompt\": \"p\", \"answer\": [\"a\"]}", "kind"},
        {"{\"kind\": \"text\", \"prompt\": \"\", \"answer\": [\"a\"]}", "prompt"},
        {"{\"kind\": \"text\", \"prompt\": \"p\", \"answer\": [\"a\"], \"points\": 0}", "points"},
        {"{\"kind\": \"text\", \"prompt\": \"p\", \"answer\": [\"a\"], \"points\": 101}", "points"},
        {"{\"kind\": \"text\", \"prompt\": \"p\", \"answer\": []}", "accepted texts"},
        {"{\"kind\": \"text\", \"prompt\": \"p\"}", "required"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct library_question q;
        char why[128];
        if (check(bad[i].q, &q, why) == 0)
            fail_msg("accepted: %s", bad[i].q);
        if (strstr(why, bad[i].why) == NULL)
            fail_msg("%s: \"%s\" does not say \"%s\"", bad[i].q, why, bad[i].why);
        assert_null(q.options);
        assert_null(q.answer);
    }
    /* 21 options. */
    json_t *opts = json_array();
    for (int i = 0; i < 21; i++)
        json_array_append_new(opts, json_sprintf("o%d", i));
    json_t *q21 = json_pack("{s:s,s:s,s:o,s:[i]}", "kind", "single", "prompt", "p", "options", opts,
                            "answer", 0);
    struct library_question q;
    char why[128];
    assert_int_equal(library_question_check(q21, &q, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "2-20 options"));
    json_decref(q21);
}

static void test_fields(void **state)
{
    (void)state;
    char why[128];
    struct library_fields f = {
        .type = "textbook", .title = "Учебник", .grade_min = 5, .grade_max = 6};
    assert_true(library_fields_ok(&f, why, sizeof(why)));
    struct library_fields none = {0}; /* an update that changes nothing */
    assert_true(library_fields_ok(&none, why, sizeof(why)));
    struct {
        struct library_fields f;
        const char *why;
    } bad[] = {
        {{.type = "poster"}, "type"},
        {{.title = ""}, "title"},
        {{.grade_min = 7, .grade_max = 6}, "grade_min"},
        {{.grade_min = 12}, "grades"},
        {{.licence = ""}, "licence"},
        {{.language = "r"}, "language"},
        {{.description = "line\nbreak"}, "description"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(library_fields_ok(&bad[i].f, why, sizeof(why)));
        assert_non_null(strstr(why, bad[i].why));
    }
    char authors[502];
    memset(authors, 'a', 501);
    authors[501] = '\0';
    f.authors = authors;
    assert_false(library_fields_ok(&f, why, sizeof(why)));
    assert_non_null(strstr(why, "authors"));
    authors[500] = '\0';
    assert_true(library_fields_ok(&f, why, sizeof(why)));
    char *body = malloc(LIBRARY_BODY_MAX + 2);
    memset(body, 'x', LIBRARY_BODY_MAX + 1);
    body[LIBRARY_BODY_MAX + 1] = '\0';
    f.body = body;
    assert_false(library_fields_ok(&f, why, sizeof(why)));
    body[LIBRARY_BODY_MAX] = '\0';
    assert_true(library_fields_ok(&f, why, sizeof(why)));
    free(body);
}

/* A test item as exchanges carry it, with one question. */
static json_t *test_item(const char *uid, const char *question)
{
    json_t *q = json_loads(question, 0, NULL);
    assert_non_null(q);
    return json_pack("{s:s,s:s,s:s,s:{s:i,s:i},s:[],s:[o]}", "uid", uid, "type", "test", "title",
                     "Контрольная", "grades", "min", 5, "max", 6, "files", "questions", q);
}

static void test_exchanged_questions_are_checked(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    char err[256] = "";
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    /* A region's contribution at the hub. */
    json_t *one = test_item("x", "{\"kind\": \"single\", \"prompt\": \"p\", \"options\": "
                                 "[\"a\"], \"answer\": [0], \"points\": 1}");
    assert_int_equal(library_contribution_write(db, one, "r77-1", "Москва", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "question 1: a single or multiple question has 2-20 options"));
    json_t *out = test_item("x", "{\"kind\": \"multiple\", \"prompt\": \"p\", \"options\": "
                                 "[\"a\", \"b\"], \"answer\": [0, 5], \"points\": 1}");
    assert_int_equal(library_contribution_write(db, out, "r77-1", "Москва", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "an answer index names no option"));
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_items"), 0);
    json_t *good = test_item("x", "{\"kind\": \"single\", \"prompt\": \"p\", \"options\": "
                                  "[\"a\", \"b\"], \"answer\": [1], \"points\": 2}");
    assert_true(library_contribution_write(db, good, "r77-1", "Москва", err, sizeof(err)) > 0);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_questions WHERE points = 2 "
                                        "AND answer = '[1]'"),
                     1);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_items WHERE authors = "
                                        "' (Москва)' AND status = 'submitted'"),
                     1);
    /* The hub's channel at a region: the whole change is refused. */
    json_t *entry = json_pack("{s:s,s:s}", "uid", "hub-1", "doc",
                              "0000000000000000000000000000000000000000000000000000000000000001");
    json_t *items = json_pack("[o]", entry);
    json_object_set_new(one, "uid", json_string("hub-1"));
    struct hub_change *c = library_hub_begin(db, items, err, sizeof(err));
    assert_non_null(c);
    unsigned char hash[32] = {0};
    hash[31] = 1;
    assert_int_equal(library_hub_offer(c, hash, one, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "item hub-1: question 1: a single or multiple question has 2-20"));
    library_hub_free(c);
    assert_int_equal(scratch_scalar(db, "SELECT count(*) FROM library_items WHERE uid = 'hub-1'"),
                     0);
    db_rollback(db);
    json_decref(items);
    json_decref(one);
    json_decref(out);
    json_decref(good);
    scratch_db_remove(db, path);
}

/* The authors as stored, the contribution's suffix included, are checked like an author's. */
static void test_exchanged_fields_are_checked(void **state)
{
    (void)state;
    struct db *db = scratch_db(&cfg, path);
    char err[256] = "", authors[501];
    memset(authors, 'a', 495);
    authors[495] = '\0';
    json_t *it =
        json_pack("{s:s,s:s,s:s,s:s,s:{s:i,s:i},s:[]}", "uid", "x", "type", "textbook", "title",
                  "Учебник", "authors", authors, "grades", "min", 5, "max", 6, "files");
    assert_int_equal(db_begin_write(db), SQLITE_OK);
    assert_int_equal(library_contribution_write(db, it, "r77-1", "Москва", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "item r77-1: authors must be up to 500 characters"));
    json_object_set_new(it, "authors", json_string("Иванова"));
    json_object_set_new(it, "licence", json_string(""));
    assert_int_equal(library_contribution_write(db, it, "r77-1", "Москва", err, sizeof(err)), 0);
    assert_non_null(strstr(err, "licence"));
    json_object_del(it, "licence");
    assert_true(library_contribution_write(db, it, "r77-1", "Москва", err, sizeof(err)) > 0);
    db_rollback(db);
    json_decref(it);
    scratch_db_remove(db, path);
}

/* Matching questions: the left-hand items as options, the right-hand item of each as the key;
 * each refusal names its API code and the question's field. */
static void test_matching_questions(void **state)
{
    (void)state;
    struct library_question q;
    char why[128];
    assert_int_equal(check("{\"kind\": \"matching\", \"prompt\": \"p\", \"options\": [\"Москва\", "
                           "\"Париж\"], \"answer\": [\"Россия\", \"Франция\"], \"points\": 2}",
                           &q, why),
                     0);
    assert_string_equal(q.kind, "matching");
    assert_string_equal(q.options, "[\"Москва\",\"Париж\"]");
    assert_string_equal(q.answer, "[\"Россия\",\"Франция\"]");
    library_question_free(&q);
    static const struct {
        const char *q, *code, *field;
    } bad[] = {
        {"{\"kind\": \"matching\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "[\"x\"]}",
         "question_pairs_mismatched", "answer"},
        {"{\"kind\": \"matching\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "\"x\"}",
         "question_pairs_mismatched", "answer"},
        {"{\"kind\": \"matching\", \"prompt\": \"p\", \"options\": [\"a\"], \"answer\": [\"x\"]}",
         "question_pairs", "options"},
        {"{\"kind\": \"matching\", \"prompt\": \"p\", \"answer\": []}", "question_pairs",
         "options"},
        {"{\"kind\": \"matching\", \"prompt\": \"p\", \"options\": [\"a\", \"a\"], \"answer\": "
         "[\"x\", \"y\"]}",
         "question_pairs_duplicate", "options"},
        {"{\"kind\": \"matching\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "[\"x\", \"x\"]}",
         "question_pairs_duplicate", "answer"},
        {"{\"kind\": \"matching\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "[\"x\", \"\"]}",
         "question_pair_text", "answer"},
        {"{\"kind\": \"matching\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "[\"x\", 1]}",
         "question_pair_text", "answer"},
        {"{\"kind\": \"multiple\", \"prompt\": \"p\", \"options\": [\"a\", \"b\"], \"answer\": "
         "[1, 1]}",
         "question_answer_index", "answer"},
        {"{\"kind\": \"single\", \"prompt\": \"\", \"options\": [\"a\", \"b\"], \"answer\": [1]}",
         "question_prompt", "prompt"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i].q, 0, NULL);
        assert_non_null(j);
        const char *code = NULL, *field = NULL;
        if (library_question_check_field(j, &q, why, sizeof(why), &code, &field) == 0)
            fail_msg("accepted: %s", bad[i].q);
        if (strcmp(code, bad[i].code) != 0 || strcmp(field, bad[i].field) != 0)
            fail_msg("%s: %s/%s, not %s/%s", bad[i].q, code, field, bad[i].code, bad[i].field);
        assert_null(q.options);
        json_decref(j);
    }
    /* The student's right-hand side: the same items, in an order that changes. */
    bool moved = false;
    for (int i = 0; i < 40 && !moved; i++) {
        json_t *m = library_matching_shuffle("[\"a\",\"b\",\"c\",\"d\"]");
        assert_int_equal(json_array_size(m), 4);
        char seen[5] = "";
        for (size_t k = 0; k < 4; k++)
            strncat(seen, json_string_value(json_array_get(m, k)), 1);
        char sorted[5];
        memcpy(sorted, seen, 5);
        for (int a = 0; a < 4; a++)
            for (int b = a + 1; b < 4; b++)
                if (sorted[b] < sorted[a]) {
                    char c = sorted[a];
                    sorted[a] = sorted[b];
                    sorted[b] = c;
                }
        assert_string_equal(sorted, "abcd");
        moved = strcmp(seen, "abcd") != 0;
        json_decref(m);
    }
    assert_true(moved);
    json_t *none = library_matching_shuffle("not json");
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);
}

/* Migration 28 makes library_questions and notifications anew: what they held stays. */
static void test_migration_28_keeps_questions_and_notifications(void **state)
{
    (void)state;
    char err[256];
    snprintf(path, sizeof(path), "/tmp/mes-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    assert_non_null(db);
    assert_int_equal(db_migrate(db, 27, err, sizeof(err)), 0);
    assert_int_equal(
        db_exec(db, "INSERT INTO persons (id, last_name, first_name) VALUES (7, 'Смирнова', "
                    "'Ольга');"
                    "INSERT INTO library_items (id, uid, type, title, grade_min, grade_max, "
                    "origin, author_id, status) VALUES (3, 'r1-3', 'test', 'Т', 5, 5, 'region', "
                    "7, 'draft');"
                    "INSERT INTO library_questions (id, item_id, position, kind, prompt, options, "
                    "answer, points) VALUES (11, 3, 1, 'single', '2+2', '[\"3\",\"4\"]', '[1]', 2);"
                    "INSERT INTO notifications (id, person_id, kind, data, read_at) VALUES (5, 7, "
                    "'message', '{\"thread_id\":1}', 42);"),
        SQLITE_OK);
    assert_int_not_equal(db_exec(db, "INSERT INTO library_questions (item_id, position, kind, "
                                     "prompt, answer) VALUES (3, 2, 'matching', 'p', '[]')"),
                         SQLITE_OK);
    assert_int_equal(db_migrate(db, 28, err, sizeof(err)), 0);
    int64_t n = 0;
    assert_int_equal(db_int(db, &n,
                            "SELECT count(*) FROM library_questions WHERE id = 11 AND item_id = 3 "
                            "AND kind = 'single' AND options = '[\"3\",\"4\"]' AND answer = '[1]' "
                            "AND points = 2",
                            NULL),
                     SQLITE_ROW);
    assert_int_equal(n, 1);
    assert_int_equal(db_int(db, &n,
                            "SELECT count(*) FROM notifications WHERE id = 5 AND person_id = 7 AND "
                            "kind = 'message' AND read_at = 42",
                            NULL),
                     SQLITE_ROW);
    assert_int_equal(n, 1);
    assert_int_equal(db_exec(db, "INSERT INTO library_questions (item_id, position, kind, prompt, "
                                 "answer) VALUES (3, 2, 'matching', 'p', '[]');"
                                 "INSERT INTO notifications (person_id, kind) VALUES (7, "
                                 "'library_returned')"),
                     SQLITE_OK);
    /* The indexes came back with the table; the cascade from the item still holds. */
    assert_int_equal(db_int(db, &n,
                            "SELECT count(*) FROM sqlite_schema WHERE name IN "
                            "('notifications_inbox', 'notifications_unread')",
                            NULL),
                     SQLITE_ROW);
    assert_int_equal(n, 2);
    assert_int_equal(db_exec(db, "DELETE FROM library_items WHERE id = 3"), SQLITE_OK);
    assert_int_equal(db_int(db, &n, "SELECT count(*) FROM library_questions", NULL), SQLITE_ROW);
    assert_int_equal(n, 0);
    scratch_db_remove(db, path);
}

int main(void)
{
    log_set_quiet(1);
    config_defaults(&cfg);
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_and_kinds_are_the_schemas),
        cmocka_unit_test(test_good_questions_are_normalized),
        cmocka_unit_test(test_bad_questions_are_refused),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_exchanged_questions_are_checked),
        cmocka_unit_test(test_exchanged_fields_are_checked),
        cmocka_unit_test(test_matching_questions),
        cmocka_unit_test(test_migration_28_keeps_questions_and_notifications),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
