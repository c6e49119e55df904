/*
 * JSON fragments every subsystem that shows people, classes and institutions builds the same
 * way, from consecutive columns of a row. In the core so that any subsystem (accounts, below
 * the school structure, included) may use them.
 */
#ifndef MES_REFS_H
#define MES_REFS_H

#include <jansson.h>
#include <sqlite3.h>

/* Columns i..i+2: last, first, middle name -> "Фамилия Имя Отчество" (no middle: two words).
 * A new reference (NULL when out of memory). */
json_t *ref_person_name(sqlite3_stmt *st, int i);
/* Columns i..i+2: id, grade, letter -> {"id": id, "name": "5А"}. A new reference. */
json_t *ref_class(sqlite3_stmt *st, int i);
/* Columns i..i+1: id, name -> {"id": id, "name": name}. A new reference. */
json_t *ref_named(sqlite3_stmt *st, int i);

#endif
