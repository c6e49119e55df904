/*
 * Unit tests of the registry of subsystems (node/subsystem.c): the migration list assembled
 * from the subsystems' entries keeps today's global versions, and a gap or a duplicate version
 * is refused; the request path's hooks each come from one subsystem; every page of the web
 * shell is a route.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http.h"
#include "subsystem.h"

/* The schema files in the order the databases of released nodes were migrated through. */
static const char *const released[] = {
    "node/school/school.sql",
    "node/accounts/accounts.sql",
    "node/journal/journal.sql",
    "node/notify/notify.sql",
    "node/messages/messages.sql",
    "node/certificates/certificates.sql",
    "node/cache/cache.sql",
    "node/files/files.sql",
    "node/journal/homework_files.sql",
    "node/journal/medical_notes.sql",
    "node/library/library.sql",
    "node/library/revisions.sql",
    "node/library/rank.sql",
    "federation/channel.sql",
    "federation/hub.sql",
    "federation/reports.sql",
    "federation/contributions.sql",
    "federation/rotation.sql",
    "node/library/exchange.sql",
    "node/accounts/secrets.sql",
};

static void test_the_registered_migrations_keep_their_versions(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(registry_check(err, sizeof(err)), 0);
    int n = (int)(sizeof(released) / sizeof(released[0]));
    assert_true(registry_latest_version() >= n);
    for (int v = 1; v <= n; v++)
        assert_string_equal(registry_migration(v), released[v - 1]);
    assert_null(registry_migration(0));
    assert_null(registry_migration(registry_latest_version() + 1));
}

static void test_a_gap_or_a_duplicate_version_is_refused(void **state)
{
    (void)state;
    const char *files[8];
    char err[256];
    struct subsystem a = {
        .name = "a", .migrations = (const struct migration[]){{1, "a1.sql"}, {3, "a3.sql"}, {0}}};
    struct subsystem b = {.name = "b",
                          .migrations = (const struct migration[]){{2, "b2.sql"}, {0}}};
    struct subsystem dup = {.name = "dup",
                            .migrations = (const struct migration[]){{2, "dup.sql"}, {0}}};
    const struct subsystem *good[] = {&a, &b, NULL};
    assert_int_equal(registry_migrations(good, files, 8, err, sizeof(err)), 3);
    assert_string_equal(files[0], "a1.sql");
    assert_string_equal(files[1], "b2.sql");
    assert_string_equal(files[2], "a3.sql");
    const struct subsystem *gap[] = {&a, NULL};
    assert_int_equal(registry_migrations(gap, files, 8, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "migration 2 is missing"));
    const struct subsystem *twice[] = {&a, &b, &dup, NULL};
    assert_int_equal(registry_migrations(twice, files, 8, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "b2.sql"));
    assert_non_null(strstr(err, "dup.sql"));
    const struct subsystem *over[] = {&a, &b, NULL};
    assert_int_equal(registry_migrations(over, files, 2, err, sizeof(err)), -1);
}

static void test_the_request_path_has_its_hooks(void **state)
{
    (void)state;
    const struct subsystem *h = registry_hooks();
    assert_non_null(h->resolve_caller);
    assert_non_null(h->csrf_ok);
    assert_non_null(h->upload_read);
    assert_non_null(h->upload_free);
    assert_non_null(h->node_check);
    assert_non_null(h->page_handler);
}

static void test_every_page_is_a_route_of_the_shell(void **state)
{
    (void)state;
    int pages = 0;
    for (int s = 0; subsystems[s] != NULL; s++)
        for (const struct page *p = subsystems[s]->pages; p && p->path; p++) {
            int found = 0;
            for (int i = 0; i < http_route_count(); i++) {
                const struct route *rt = http_route_at(i);
                if (strcmp(rt->path, p->path) == 0 && strcmp(rt->method, "GET") == 0) {
                    assert_string_equal(rt->name, p->name);
                    assert_ptr_equal(rt->handler, registry_hooks()->page_handler);
                    assert_int_equal(rt->access, ACCESS_PUBLIC);
                    found++;
                }
            }
            assert_int_equal(found, 1);
            pages++;
        }
    assert_true(pages >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_registered_migrations_keep_their_versions),
        cmocka_unit_test(test_a_gap_or_a_duplicate_version_is_refused),
        cmocka_unit_test(test_the_request_path_has_its_hooks),
        cmocka_unit_test(test_every_page_is_a_route_of_the_shell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
