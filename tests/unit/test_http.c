/*
 * Unit tests of request helpers: strict JSON body validation (unknown fields, types,
 * required fields), the error shape, role names, and that a handler meeting a storage
 * failure never answers below 500.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

/* Runs body_unpack_or_respond on `text` with the login format; returns the status (0 ok). */
static int unpack(const char *text, const char **login, const char **password)
{
    struct req r = {0};
    r.body = json_loads(text, 0, NULL);
    int rc = body_unpack_or_respond(&r, "{s:s,s:s}", "login", login, "password", password);
    int status = rc == 0 ? 0 : r.status;
    if (rc != 0) {
        json_t *e = json_object_get(r.out_json, "error");
        assert_string_equal(json_string_value(json_object_get(e, "code")), "bad_request");
        assert_true(strlen(json_string_value(json_object_get(e, "message"))) > 0);
    }
    json_decref(r.out_json);
    if (rc == 0)
        *login = *password = NULL; /* borrowed from the body, freed below */
    json_decref(r.body);
    return status;
}

static void test_body_validation(void **state)
{
    (void)state;
    const char *l, *p;
    assert_int_equal(unpack("{\"login\":\"a\",\"password\":\"b\"}", &l, &p), 0);
    assert_int_equal(unpack("{\"login\":\"a\",\"password\":\"b\",\"x\":1}", &l, &p), 400);
    assert_int_equal(unpack("{\"login\":\"a\"}", &l, &p), 400);
    assert_int_equal(unpack("{\"login\":1,\"password\":\"b\"}", &l, &p), 400);
    struct req r = {0};
    assert_int_equal(body_unpack_or_respond(&r, "{s:s}", "login", &l), -1);
    assert_int_equal(r.status, 400); /* no body at all */
    json_decref(r.out_json);
}

/* body_unpack_or_respond with a device-like format: a required name, an optional integer and
 * a nested object; returns the status (0 when it passed). */
static int unpack_optional(const char *text, json_int_t *inst)
{
    struct req r = {0};
    r.body = json_loads(text, 0, NULL);
    assert_non_null(r.body);
    const char *name, *colour = NULL;
    *inst = 0;
    int rc = body_unpack_or_respond(&r, "{s:s,s?I,s?{s:s}}", "name", &name, "institution_id", inst,
                                    "look", "colour", &colour);
    assert_true(rc == 0 || rc == -1);
    int status = rc == 0 ? 0 : r.status;
    if (rc == 0)
        assert_null(r.out_json);
    else
        assert_non_null(json_object_get(r.out_json, "error"));
    json_decref(r.out_json);
    json_decref(r.body);
    return status;
}

static void test_optional_and_nested_fields(void **state)
{
    (void)state;
    json_int_t inst;
    assert_int_equal(unpack_optional("{\"name\":\"a\"}", &inst), 0);
    assert_int_equal(inst, 0);
    assert_int_equal(unpack_optional("{\"name\":\"a\",\"institution_id\":7}", &inst), 0);
    assert_int_equal(inst, 7);
    assert_int_equal(unpack_optional("{\"name\":\"a\",\"institution_id\":\"7\"}", &inst), 400);
    assert_int_equal(unpack_optional("{\"name\":\"a\",\"institution_id\":1.5}", &inst), 400);
    assert_int_equal(unpack_optional("{\"name\":\"a\",\"look\":{\"colour\":\"red\"}}", &inst), 0);
    /* Strict mode reaches into nested objects too. */
    assert_int_equal(
        unpack_optional("{\"name\":\"a\",\"look\":{\"colour\":\"red\",\"size\":1}}", &inst), 400);
    assert_int_equal(unpack_optional("{\"name\":null}", &inst), 400);
    /* A body that is not an object does not pass an object format. */
    struct req r = {0};
    r.body = json_loads("[1, 2]", 0, NULL);
    const char *name;
    assert_int_equal(body_unpack_or_respond(&r, "{s:s}", "name", &name), -1);
    assert_int_equal(r.status, 400);
    json_decref(r.out_json);
    json_decref(r.body);
}

static void test_error_shape(void **state)
{
    (void)state;
    struct req r = {0};
    assert_int_equal(reply_error(&r, 409, "conflict", "class %s exists", "5А"), 409);
    const char *code, *message;
    assert_int_equal(
        json_unpack(r.out_json, "{s:{s:s,s:s}}", "error", "code", &code, "message", &message), 0);
    assert_string_equal(code, "conflict");
    assert_string_equal(message, "class 5А exists");
    assert_int_equal(reply_header(&r, "Retry-After", "%d", 30), 0);
    assert_string_equal(r.out_headers, "Retry-After: 30\r\n");
    json_decref(r.out_json);
}

static void test_roles(void **state)
{
    (void)state;
    for (int i = 0; i < ROLES_COUNT; i++)
        assert_int_equal(role_from_name(role_name(1u << i)), 1u << i);
    assert_string_equal(role_name(ROLE_CLASS_TEACHER), "class_teacher");
    assert_int_equal(role_from_name("superuser"), 0);
    assert_null(role_name(ROLE_ADMIN | ROLE_PARENT));
    assert_int_equal(scope_from_name("meals"), SCOPE_MEALS);
    assert_int_equal(scope_from_name("door"), 0);
    for (int i = 0; i < SCOPES_COUNT; i++)
        assert_int_equal(scope_from_name(scope_name(1u << i)), 1u << i);
    assert_null(role_name(0));
    assert_null(role_name(1u << ROLES_COUNT));
    assert_int_equal(role_from_name(""), 0);
    assert_int_equal(role_from_name("Admin"), 0); /* names are exact */
}

static void test_route_table_is_well_formed(void **state)
{
    (void)state;
    int n = http_route_count();
    assert_true(n > 20);
    for (int i = 0; i < n; i++) {
        const struct route *a = http_route_at(i);
        assert_non_null(a->handler);
        assert_non_null(a->name);
        assert_true(a->path[0] == '/');
        /* A protected route names who may call it: roles, scopes, or signing nodes. */
        if (a->access == ACCESS_NODE)
            assert_true(a->signer != SIGNER_NONE && a->allow == 0);
        else
            assert_true(a->signer == SIGNER_NONE);
        if (a->access == ACCESS_USER || a->access == ACCESS_DEVICE)
            assert_true(a->allow != 0);
        /* Every route under /federation/v1/ but the public keys is node-signed. */
        if (strncmp(a->path, "/federation/v1/", 15) == 0 && strcmp(a->path, "/federation/v1/key") &&
            strcmp(a->path, "/federation/v1/key-rotations"))
            assert_int_equal(a->access, ACCESS_NODE);
        for (int j = 0; j < i; j++) {
            const struct route *b = http_route_at(j);
            assert_false(strcmp(a->method, b->method) == 0 && strcmp(a->path, b->path) == 0);
            assert_string_not_equal(a->name, b->name);
        }
    }
}

/* A handler that meets a storage failure in its loop and answers 200 with what it got. */
static int short_answer_handler(struct req *r)
{
    sqlite3_stmt *st = db_query(r->db, "SELECT x FROM no_such_table", NULL);
    int rc;
    json_t *items = json_array();
    while (db_next(st, &rc))
        json_array_append_new(items, json_integer(sqlite3_column_int(st, 0)));
    return reply_json(r, 200, json_pack("{s:o}", "items", items)); /* rc not looked at */
}

static int fine_handler(struct req *r)
{
    int64_t v = 0;
    if (db_int(r->db, &v, "SELECT 6 * 7", NULL) != SQLITE_ROW)
        return reply_db_error(r);
    return reply_json(r, 201, json_pack("{s:I}", "v", (json_int_t)v));
}

static void test_storage_failure_is_never_a_short_answer(void **state)
{
    (void)state;
    struct mes_config cfg;
    config_defaults(&cfg);
    char path[] = "/tmp/mes-test-http-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    struct db *db = db_open(path, &cfg, err, sizeof(err));
    assert_non_null(db);
    struct route bad = {
        .method = "GET", .path = "/x", .handler = short_answer_handler, .name = "x"};
    struct req r = {.db = db, .route = &bad, .keep_on_error = true};
    http_run_handler(&r);
    assert_int_equal(r.status, 500);
    const char *code = NULL;
    assert_int_equal(json_unpack(r.out_json, "{s:{s:s}}", "error", "code", &code), 0);
    assert_string_equal(code, "internal");
    assert_false(r.keep_on_error);     /* the caller rolls back */
    assert_int_equal(db_failure(), 0); /* cleared for the next request on this thread */
    json_decref(r.out_json);
    /* A handler that met no failure keeps its answer. */
    struct route good = {.method = "GET", .path = "/y", .handler = fine_handler, .name = "y"};
    struct req r2 = {.db = db, .route = &good};
    http_run_handler(&r2);
    assert_int_equal(r2.status, 201);
    json_decref(r2.out_json);
    db_close(db);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_validation),
        cmocka_unit_test(test_optional_and_nested_fields),
        cmocka_unit_test(test_error_shape),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_route_table_is_well_formed),
        cmocka_unit_test(test_storage_failure_is_never_a_short_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
