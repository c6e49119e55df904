/*
 * The accounts subsystem's registration (subsystem.h): login, sessions, devices and the audit
 * log; activation letters and codes (activation.c); passwords, resets, disabling, sessions,
 * guardian links and finding accounts (manage.c), with their pages (accounts.js); the
 * caller's resolution and the CSRF check for the dispatcher; the login throttle, started with
 * the node.
 */
#include <sodium.h>
#include <stdio.h>

#include "accounts/auth.h"
#include "accounts/throttle.h"
#include "node.h"
#include "subsystem.h"

extern const struct route auth_routes[];       /* accounts.c */
extern const struct route activation_routes[]; /* activation.c */
extern const struct route manage_routes[];     /* manage.c */

/* The login throttle, with the key of its device cookies (made at the first start). */
static int accounts_start(struct node *n, char *err, size_t errlen)
{
    unsigned char cookie_key[THROTTLE_KEY_BYTES];
    struct db *db = db_open(n->db_path, &n->cfg, err, errlen);
    if (db == NULL)
        return -1;
    if (throttle_load_key(db, cookie_key) != 0) {
        snprintf(err, errlen, "%s: cannot read the device-cookie key: %s", n->db_path,
                 db_errmsg(db));
        db_close(db);
        return -1;
    }
    db_close(db);
    n->throttle = throttle_create(&n->cfg, cookie_key);
    sodium_memzero(cookie_key, sizeof(cookie_key));
    if (n->throttle == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void accounts_stop(struct node *n)
{
    throttle_destroy(n->throttle);
    n->throttle = NULL;
}

const struct subsystem accounts_subsystem = {
    .name = "accounts",
    .routes = (const struct route *const[]){auth_routes, activation_routes, manage_routes, NULL},
    .migrations =
        (const struct migration[]){
            {2, "node/accounts/accounts.sql"},
            {20, "node/accounts/secrets.sql"},
            {22, "node/accounts/activation.sql"},
            {26, "node/accounts/search.sql"},
            {30, "node/accounts/canteen_role.sql"},
            {0},
        },
    .pages =
        (const struct page[]){
            {"/activate", "web_page_activate"},
            {"/account", "web_page_account"},
            {"/admin/accounts", "web_page_admin_accounts"},
            {"/admin/classes/{id}/letters", "web_page_letters"},
            {0},
        },
    .scripts = (const char *const[]){"accounts.js", NULL},
    .start = accounts_start,
    .stop = accounts_stop,
    .resolve_caller = auth_resolve,
    .csrf_ok = auth_csrf_ok,
};
