/*
 * The hub's key rotation (rotation.c).
 */
#ifndef MES_FED_ROTATION_H
#define MES_FED_ROTATION_H

#include <stddef.h>

#include "lib/minisign.h"

struct db;
struct mes_config;
struct node;

/* Region: the hub key in force: the one followed after a rotation, else the pinned one.
 * 0, or -1 with err. */
int hub_key_current(struct db *db, const struct mes_config *cfg, struct ms_public *pk, char *err,
                    size_t errlen);

/* Hub: announces the key in file `new_key_file` (a minisign secret key, unencrypted) in a
 * statement signed by the node's key, then makes it the node's key. 0, or -1 with err. */
int rotation_announce(struct node *n, struct db *db, const char *new_key_file, char *err,
                      size_t errlen);

/* Region: follows the hub's statements from `pk` (the key in force) to the key of id
 * `want_id`, each statement checked with the key before it; keeps the key reached and puts it
 * in `pk`. 0, or -1 with err (a forged statement, or no chain to that key). */
int rotation_follow(struct node *n, struct db *db, const unsigned char want_id[MS_ID_BYTES],
                    struct ms_public *pk, char *err, size_t errlen);

#endif
