/*
 * JSON fragments of people, classes and institutions (refs.h).
 */
#include "refs.h"

#include "db.h"

json_t *ref_person_name(sqlite3_stmt *st, int i)
{
    const char *middle = db_col_text(st, i + 2);
    return json_sprintf("%s %s%s%s", db_col_text(st, i), db_col_text(st, i + 1),
                        middle[0] ? " " : "", middle);
}

json_t *ref_class(sqlite3_stmt *st, int i)
{
    return json_pack("{s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, i), "name",
                     json_sprintf("%d%s", sqlite3_column_int(st, i + 1), db_col_text(st, i + 2)));
}

json_t *ref_named(sqlite3_stmt *st, int i)
{
    return json_pack("{s:I,s:s}", "id", (json_int_t)sqlite3_column_int64(st, i), "name",
                     db_col_text(st, i + 1));
}
