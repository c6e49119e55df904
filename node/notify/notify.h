/*
 * Notifications: a feed per person (new or changed mark, homework, absence, a parent's notice),
 * written by the journal in the same transaction as the change, read and marked read by the
 * recipient. Schema: notify.sql. Routes: notify.c (notify_routes).
 */
#ifndef MES_NOTIFY_H
#define MES_NOTIFY_H

#include <jansson.h>
#include <stdint.h>

#include "db.h"

/* Notifies a student and each of their guardians: one family row (family.sql), which each of
 * them reads, whoever the guardians are when they read; `data` is borrowed. 0 or -1. */
int notify_family(struct db *db, int64_t student_id, const char *kind, json_t *data);

/* Notifies every current student of a class and their guardians (homework): a family row per
 * student. 0 or -1. */
int notify_class(struct db *db, int64_t class_id, const char *kind, json_t *data);

/* Notifies one person (e.g. the class teacher) about a student (0: about nobody, e.g. the
 * verdict on a library item for its author). 0 or -1. */
int notify_person(struct db *db, int64_t person_id, int64_t student_id, const char *kind,
                  json_t *data);

/* How many of the person's notifications are unread, their own and their family rows, in *n.
 * 0, or -1 on a storage failure. */
int notify_unread(struct db *db, int64_t person_id, int64_t *n);

/* Marks read the person's unread notifications of `kind` whose data has `key` equal to
 * `value` (a thread's "message" notifications when the thread is read). 0 or -1. */
int notify_read_about(struct db *db, int64_t person_id, const char *kind, const char *key,
                      int64_t value);

#endif
