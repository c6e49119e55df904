/*
 * The library's routes (see library.h): search and browse, items and their files, the review
 * workflow, tests scored on the server, favourites, and items attached to lessons and
 * homework. Who sees what: approved items every logged-in account of the region; drafts
 * their author; submitted, rejected and approved items also the region's methodologists and
 * admins. Only authors change their drafts; only methodologists give verdicts; items from the
 * hub are never changed here.
 */
#include "library/library.h"

#include <assert.h>
#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts/authz.h"
#include "cache/cache.h"
#include "files/files.h"
#include "journal/journal.h"
#include "node.h"
#include "notify/notify.h"
#include "school/school.h"

static bool reviewer(const struct req *r)
{
    return caller_is_admin(r) || caller_has(r, ROLE_METHODOLOGIST, 0);
}

/* An item as access checks need it. */
struct item {
    int64_t id, author, revision_of; /* revision_of: the approved item a draft revises, or 0 */
    char status[16], type[16], origin[8];
};

/* Loads item `id` and checks the caller may see it; 0, or -1 after answering 404 (an item one
 * may not see does not exist) or 500. */
static int item_visible_or_respond(struct req *r, int64_t id, struct item *it)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT coalesce(author_id, 0), status, type, origin, "
                                "coalesce(revision_of, 0) FROM library_items WHERE id = :id",
                                DB_ARGS(DB_INT(":id", id)));
    int rc;
    if (db_next(st, &rc)) {
        it->id = id;
        it->author = sqlite3_column_int64(st, 0);
        snprintf(it->status, sizeof(it->status), "%s", db_col_text(st, 1));
        snprintf(it->type, sizeof(it->type), "%s", db_col_text(st, 2));
        snprintf(it->origin, sizeof(it->origin), "%s", db_col_text(st, 3));
        it->revision_of = sqlite3_column_int64(st, 4);
        sqlite3_reset(st);
    }
    if (rc != SQLITE_ROW)
        return (rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such item")
                                  : reply_db_error(r)),
               -1;
    bool mine = it->author != 0 && it->author == r->caller.person_id;
    bool ok = strcmp(it->status, "approved") == 0 || mine ||
              (reviewer(r) && strcmp(it->status, "draft") != 0);
    if (!ok)
        return reply_error(r, 404, "not_found", "no such item"), -1;
    return 0;
}

int library_item_visible_or_respond(struct req *r, int64_t id)
{
    struct item it;
    return item_visible_or_respond(r, id, &it);
}

/* The caller may change the item: its author, while it is a draft or was rejected. */
static int item_editable_or_respond(struct req *r, int64_t id, struct item *it)
{
    if (item_visible_or_respond(r, id, it) != 0)
        return -1;
    if (it->author == 0 || it->author != r->caller.person_id)
        return reply_error(r, 403, "forbidden", "only its author changes an item"), -1;
    if (strcmp(it->status, "draft") != 0 && strcmp(it->status, "rejected") != 0)
        return reply_error(r, 409, "conflict", "a %s item cannot be changed", it->status), -1;
    return 0;
}

/* The columns of an item in lists, then its full record. */
#define ITEM_COLUMNS                                                                               \
    "i.id, i.uid, i.type, i.title, i.description, i.subject_id, s.name, i.grade_min, "             \
    "i.grade_max, i.authors, i.origin, i.status, i.version, i.uses, "                              \
    "(SELECT f.id FROM library_files f WHERE f.item_id = i.id AND f.blob_id = i.cover_blob_id), "  \
    "i.licence, i.language, i.review_comment, i.body, i.updated_at"

static json_t *item_row(sqlite3_stmt *st)
{
    json_t *o = json_pack(
        "{s:I,s:s,s:s,s:s,s:s,s:o,s:{s:i,s:i},s:s,s:s,s:s,s:i,s:I,s:o}", "id",
        (json_int_t)sqlite3_column_int64(st, 0), "uid", db_col_text(st, 1), "type",
        db_col_text(st, 2), "title", db_col_text(st, 3), "description", db_col_text(st, 4),
        "subject",
        sqlite3_column_type(st, 5) == SQLITE_NULL
            ? json_null()
            : json_pack("{s:I,s:s}", "id", (json_int_t)sqlite3_column_int64(st, 5), "name",
                        db_col_text(st, 6)),
        "grades", "min", sqlite3_column_int(st, 7), "max", sqlite3_column_int(st, 8), "authors",
        db_col_text(st, 9), "origin", db_col_text(st, 10), "status", db_col_text(st, 11), "version",
        sqlite3_column_int(st, 12), "uses", (json_int_t)sqlite3_column_int64(st, 13), "cover",
        sqlite3_column_type(st, 14) == SQLITE_NULL
            ? json_null()
            : json_sprintf("/api/v1/library/files/%lld", (long long)sqlite3_column_int64(st, 14)));
    return o;
}

char *library_fts_query(const char *text)
{
    size_t n = strlen(text);
    char *q = malloc(3 * n + 1), *o = q;
    if (q == NULL)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        if (!(isalnum(*p) || *p >= 0x80)) {
            p++;
            continue;
        }
        if (o != q)
            *o++ = ' ';
        *o++ = '"';
        while (*p && (isalnum(*p) || *p >= 0x80))
            *o++ = (char)*p++;
        *o++ = '"';
    }
    *o = '\0';
    return q;
}

/* Search by words alone (see library_search): 0 with the page in `items` and the count in
 * `total`; 1 when the window did not hold the whole page (the caller runs the full query);
 * -1 on a database error. */
static int search_ranked_first(struct req *r, const char *match, int64_t limit, int64_t offset,
                               json_t *items, json_int_t *total)
{
    int64_t n = 0;
    int rc =
        db_int(r->db, &n,
               "SELECT (SELECT count(*) FROM library_fts WHERE library_fts MATCH :q) - (SELECT "
               "count(*) FROM library_items i WHERE i.status IN ('draft', 'submitted', "
               "'rejected') AND EXISTS (SELECT 1 FROM library_fts WHERE library_fts MATCH :q AND "
               "rowid = i.id))",
               DB_ARGS(DB_TEXT(":q", match)));
    if (rc != SQLITE_ROW)
        return -1;
    *total = n;
    /* "rank + 0.0", not "rank": FTS5 would sort every match itself; as an expression SQLite
     * keeps only the best :window rows while it reads (a top-N sort). */
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT " ITEM_COLUMNS " FROM (SELECT rowid AS rid, rank AS score FROM "
                 "library_fts WHERE library_fts MATCH :q ORDER BY rank + 0.0 LIMIT :window) f "
                 "CROSS JOIN library_items i ON i.id = f.rid LEFT JOIN subjects s ON s.id "
                 "= i.subject_id WHERE i.status = 'approved' ORDER BY f.score, i.id LIMIT "
                 ":limit OFFSET :offset",
                 DB_ARGS(DB_TEXT(":q", match), DB_INT(":window", 200 + 2 * (offset + limit)),
                         DB_INT(":limit", limit), DB_INT(":offset", offset)));
    while (db_next(st, &rc))
        json_array_append_new(items, item_row(st));
    if (rc != SQLITE_DONE)
        return -1;
    json_int_t want = *total - offset < limit ? *total - offset : limit;
    return (json_int_t)json_array_size(items) >= want ? 0 : 1;
}

/* A search's query parameters (library_search). */
struct search {
    char q[512], type[16], origin[8], status[16];
    int64_t subject, grade, limit, offset;
    bool mine;
};

/* Reads and checks the query parameters into `s`; 0, or -1 after answering 400 or 403. */
static int search_params_or_respond(struct req *r, struct search *s)
{
    char buf[32];
    *s = (struct search){.limit = 20};
    req_query(r, "q", s->q, sizeof(s->q));
    req_query(r, "type", s->type, sizeof(s->type));
    req_query(r, "origin", s->origin, sizeof(s->origin));
    req_query(r, "status", s->status, sizeof(s->status));
    if (req_query(r, "subject", buf, sizeof(buf)) > 0)
        s->subject = strtoll(buf, NULL, 10);
    if (req_query(r, "grade", buf, sizeof(buf)) > 0)
        s->grade = strtoll(buf, NULL, 10);
    if (req_query(r, "limit", buf, sizeof(buf)) > 0)
        s->limit = strtoll(buf, NULL, 10);
    if (req_query(r, "offset", buf, sizeof(buf)) > 0)
        s->offset = strtoll(buf, NULL, 10);
    if (req_query(r, "mine", buf, sizeof(buf)) > 0)
        s->mine = strcmp(buf, "1") == 0 || strcmp(buf, "true") == 0;
    if ((s->type[0] && !library_type_ok(s->type)) ||
        (s->origin[0] && strcmp(s->origin, "hub") && strcmp(s->origin, "region") &&
         strcmp(s->origin, "school")) ||
        (s->grade != 0 && (s->grade < 1 || s->grade > 11)) || s->subject < 0 || s->limit < 1 ||
        s->limit > 100 || s->offset < 0 || s->offset > 100000)
        return reply_error(r, 400, "bad_request",
                           "type, origin, grade 1-11, limit 1-100 and offset must be valid"),
               -1;
    if (s->status[0] && strcmp(s->status, "approved") != 0) {
        if (strcmp(s->status, "submitted") && strcmp(s->status, "rejected") &&
            strcmp(s->status, "draft"))
            return reply_error(r, 400, "bad_request", "unknown status '%s'", s->status), -1;
        if (!s->mine && !reviewer(r))
            return reply_error(r, 403, "forbidden", "only methodologists see items under review"),
                   -1;
        if (!s->mine && strcmp(s->status, "draft") == 0)
            return reply_error(r, 403, "forbidden", "drafts are their authors' own"), -1;
    }
    return 0;
}

/* The filters of a search, as the WHERE clause of its statements: NULL parameters switch
 * filters off. One's own items (mine=1) and the shared ones are two statements, so that each
 * starts from its index: the author's (library_items_by_author) or the status's, in the order
 * of the newest (library_items_newest); one clause for both could use neither and read every
 * item of the library. */
#define SEARCH_MINE   "i.author_id = :me AND (:status IS NULL OR i.status = :status)"
#define SEARCH_SHARED "i.status = coalesce(:status, 'approved')"
#define SEARCH_FILTERS                                                                             \
    " AND (:type IS NULL OR i.type = :type) AND (:subject IS NULL OR i.subject_id = :subject) "    \
    "AND (:grade IS NULL OR :grade BETWEEN i.grade_min AND i.grade_max) AND (:origin IS NULL OR "  \
    "i.origin = :origin)"
#define SEARCH_PAGE(who)                                                                           \
    "SELECT " ITEM_COLUMNS " FROM library_items i LEFT JOIN subjects s ON s.id = i.subject_id "    \
    "WHERE " who SEARCH_FILTERS " ORDER BY i.updated_at DESC, i.id DESC LIMIT :limit OFFSET "      \
    ":offset"
#define SEARCH_PAGE_WORDS(who)                                                                     \
    "SELECT " ITEM_COLUMNS " FROM library_fts CROSS JOIN library_items i ON i.id = "               \
    "library_fts.rowid LEFT JOIN subjects s ON s.id = i.subject_id WHERE library_fts MATCH :q "    \
    "AND " who SEARCH_FILTERS " ORDER BY library_fts.rank, i.id LIMIT :limit OFFSET :offset"
#define SEARCH_COUNT(who) "SELECT count(*) FROM library_items i WHERE " who SEARCH_FILTERS
#define SEARCH_COUNT_WORDS(who)                                                                    \
    "SELECT count(*) FROM library_fts CROSS JOIN library_items i ON i.id = library_fts.rowid "     \
    "WHERE library_fts MATCH :q AND " who SEARCH_FILTERS

/* The arguments of a search statement into `args`: the filters, the words when `match` is not
 * NULL, the page when `page`, and the end of the list. */
enum { SEARCH_ARGS = 11 };
static const struct db_arg *search_args(const struct req *r, const struct search *s,
                                        const char *match, bool page,
                                        struct db_arg args[SEARCH_ARGS])
{
    size_t n = 0;
    if (s->mine)
        args[n++] = (struct db_arg)DB_INT(":me", r->caller.person_id);
    args[n++] = (struct db_arg)DB_TEXT(":status", s->status[0] ? s->status : NULL);
    args[n++] = (struct db_arg)DB_TEXT(":type", s->type[0] ? s->type : NULL);
    args[n++] = (struct db_arg)DB_TEXT(":origin", s->origin[0] ? s->origin : NULL);
    args[n++] =
        (struct db_arg){.name = ":subject", .type = s->subject ? 'i' : 'n', .i = s->subject};
    args[n++] = (struct db_arg){.name = ":grade", .type = s->grade ? 'i' : 'n', .i = s->grade};
    if (match != NULL)
        args[n++] = (struct db_arg)DB_TEXT(":q", match);
    if (page) {
        args[n++] = (struct db_arg)DB_INT(":limit", s->limit);
        args[n++] = (struct db_arg)DB_INT(":offset", s->offset);
    }
    assert(n < SEARCH_ARGS);
    args[n] = (struct db_arg){.name = NULL};
    return args;
}

/* The full search: the page into `items`, the count into `total`. 0, or -1 on a database
 * error. `match` is the FTS5 query, "" for none. */
static int search_full(struct req *r, const struct search *s, const char *match, json_t *items,
                       json_int_t *total)
{
    /* [mine][words] */
    static const char *const page_sql[2][2] = {
        {SEARCH_PAGE(SEARCH_SHARED), SEARCH_PAGE_WORDS(SEARCH_SHARED)},
        {SEARCH_PAGE(SEARCH_MINE), SEARCH_PAGE_WORDS(SEARCH_MINE)}};
    static const char *const count_sql[2][2] = {
        {SEARCH_COUNT(SEARCH_SHARED), SEARCH_COUNT_WORDS(SEARCH_SHARED)},
        {SEARCH_COUNT(SEARCH_MINE), SEARCH_COUNT_WORDS(SEARCH_MINE)}};
    bool text = match[0] != '\0', mine = s->mine;
    struct db_arg args[SEARCH_ARGS];
    sqlite3_stmt *st =
        db_query(r->db, page_sql[mine][text], search_args(r, s, text ? match : NULL, true, args));
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(items, item_row(st));
    if (rc != SQLITE_DONE)
        return -1;
    int64_t n = 0;
    if (db_int(r->db, &n, count_sql[mine][text],
               search_args(r, s, text ? match : NULL, false, args)) != SQLITE_ROW)
        return -1;
    *total = n;
    return 0;
}

/* GET /api/v1/library/items?q=&type=&subject=&grade=&origin=&mine=1&status=&limit=&offset=
 * {"items": [...], "total": N}: approved items ranked by relevance to q (BM25 over title,
 * description, authors and text), newest first without q; mine=1 lists the caller's own items
 * in every state; status=submitted is the methodologists' review queue. */
static int library_search(struct req *r)
{
    struct search s;
    if (search_params_or_respond(r, &s) != 0)
        return r->status;
    /* The region's shared searches are kept in the read cache; one's own items are not. */
    struct cache_key key = {.ok = false};
    if (!s.mine && !s.status[0]) {
        cache_key_begin(r, &key);
        cache_key_library(r, &key);
        if (cache_reply(r, &key))
            return r->status;
    }
    char *match = library_fts_query(s.q);
    if (match == NULL)
        return reply_error(r, 503, "unavailable", "out of memory");
    json_t *items = json_array();
    json_int_t total = 0;
    /* The common search, words and nothing else: rank in the index first and read only the
     * best items' rows, and count the matches from the index (less the few not approved).
     * When the approved items of the window fall short of the page, the full query runs. */
    bool plain =
        match[0] && !s.mine && !s.status[0] && !s.type[0] && !s.origin[0] && !s.subject && !s.grade;
    int rc = plain ? search_ranked_first(r, match, s.limit, s.offset, items, &total) : 1;
    if (rc == 1) {
        json_array_clear(items);
        rc = search_full(r, &s, match, items, &total);
    }
    free(match);
    if (rc != 0) {
        json_decref(items);
        return reply_db_error(r);
    }
    return cache_reply_json(r, &key, 200, json_pack("{s:o,s:I}", "items", items, "total", total));
}

/* Appends item `id`'s files to `files`. 0, or -1 on a database error. */
static int item_files(struct req *r, int64_t id, json_t *files)
{
    sqlite3_stmt *st =
        db_query(r->db,
                 "SELECT f.id, f.name, f.type, b.size FROM library_files f JOIN blobs b "
                 "ON b.id = f.blob_id WHERE f.item_id = :id ORDER BY f.name",
                 DB_ARGS(DB_INT(":id", id)));
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(files, json_pack("{s:I,s:s,s:s,s:I}", "id",
                                               (json_int_t)sqlite3_column_int64(st, 0), "name",
                                               db_col_text(st, 1), "type", db_col_text(st, 2),
                                               "size", (json_int_t)sqlite3_column_int64(st, 3)));
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Appends test `id`'s questions, without their answers, to `questions`: a matching question's
 * right-hand items come as "matches", in a new random order each time. 0, or -1 on a
 * database error. */
static int item_questions(struct req *r, int64_t id, json_t *questions)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT id, kind, prompt, options, points, answer FROM "
                                "library_questions WHERE item_id = :id ORDER BY position",
                                DB_ARGS(DB_INT(":id", id)));
    int rc;
    while (db_next(st, &rc)) {
        json_t *opts = json_loads(db_col_text(st, 3), 0, NULL);
        json_t *q =
            json_pack("{s:I,s:s,s:s,s:o,s:i}", "id", (json_int_t)sqlite3_column_int64(st, 0),
                      "kind", db_col_text(st, 1), "prompt", db_col_text(st, 2), "options",
                      opts ? opts : json_array(), "points", sqlite3_column_int(st, 4));
        if (strcmp(db_col_text(st, 1), "matching") == 0)
            json_object_set_new(q, "matches", library_matching_shuffle(db_col_text(st, 5)));
        json_array_append_new(questions, q);
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Item `it` as the caller sees it in full, or NULL on a database error. */
static json_t *item_full(struct req *r, const struct item *it)
{
    int rc;
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT " ITEM_COLUMNS " FROM library_items i LEFT JOIN "
                                "subjects s ON s.id = i.subject_id WHERE i.id = :id",
                                DB_ARGS(DB_INT(":id", it->id)));
    if (!db_next(st, &rc))
        return NULL;
    json_t *o = item_row(st);
    json_object_set_new(o, "licence", json_string(db_col_text(st, 15)));
    json_object_set_new(o, "language", json_string(db_col_text(st, 16)));
    json_object_set_new(o, "review_comment", json_string(db_col_text(st, 17)));
    json_object_set_new(o, "body", json_string(db_col_text(st, 18)));
    json_object_set_new(o, "updated_at", json_integer(sqlite3_column_int64(st, 19)));
    json_object_set_new(o, "mine", json_boolean(it->author == r->caller.person_id));
    sqlite3_reset(st);
    json_object_set_new(o, "revision_of",
                        it->revision_of ? json_integer(it->revision_of) : json_null());
    if (it->author == r->caller.person_id) {
        /* The author's open revision of this item, if any. */
        int64_t rev = 0;
        rc = db_int(r->db, &rev, "SELECT id FROM library_items WHERE revision_of = :id",
                    DB_ARGS(DB_INT(":id", it->id)));
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            goto fail;
        json_object_set_new(o, "revision", rev ? json_integer(rev) : json_null());
    }
    json_t *files = json_array();
    json_object_set_new(o, "files", files);
    if (item_files(r, it->id, files) != 0)
        goto fail;
    if (strcmp(it->type, "test") == 0) {
        json_t *questions = json_array();
        json_object_set_new(o, "questions", questions);
        if (item_questions(r, it->id, questions) != 0)
            goto fail;
    }
    int fav =
        db_exists(r->db, "SELECT 1 FROM library_favourites WHERE person_id = :me AND item_id = :id",
                  DB_ARGS(DB_INT(":me", r->caller.person_id), DB_INT(":id", it->id)));
    if (fav < 0)
        goto fail;
    json_object_set_new(o, "favourite", json_boolean(fav == 1));
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* GET /api/v1/library/items/{id}: the item, its files and, for a test, its questions
 * (without their answers: tests are scored on the server). */
static int library_item_get(struct req *r)
{
    struct item it;
    if (item_visible_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    json_t *o = item_full(r, &it);
    return o ? reply_json(r, 200, o) : reply_db_error(r);
}

/* Validated item fields of a create or an update; absent ones stay NULL / 0. `subject`: 0
 * absent, -1 explicitly none, else the subject's id. */
struct item_fields {
    struct library_fields f;
    int64_t subject;
};

static int fields_or_respond(struct req *r, struct item_fields *fs, bool create)
{
    *fs = (struct item_fields){0};
    struct library_fields *f = &fs->f;
    json_t *subject = NULL;
    json_int_t gmin = 0, gmax = 0;
    if (body_unpack_or_respond(r, "{s?s,s?s,s?s,s?s,s?s,s?s,s?s,s?o,s?I,s?I}", "type", &f->type,
                               "title", &f->title, "description", &f->description, "body", &f->body,
                               "authors", &f->authors, "licence", &f->licence, "language",
                               &f->language, "subject_id", &subject, "grade_min", &gmin,
                               "grade_max", &gmax) != 0)
        return -1;
    f->grade_min = gmin;
    f->grade_max = gmax;
    if (subject && !json_is_null(subject)) {
        if (!json_is_integer(subject) || json_integer_value(subject) <= 0)
            return reply_field_error(r, 400, "bad_item", "subject_id",
                                     "subject_id must be an id or null"),
                   -1;
        fs->subject = json_integer_value(subject);
    } else if (subject) {
        fs->subject = -1; /* explicitly none */
    }
    if (create && (f->type == NULL || f->title == NULL || gmin == 0 || gmax == 0))
        return reply_field_error(r, 400, "bad_item",
                                 f->type == NULL    ? "type"
                                 : f->title == NULL ? "title"
                                 : gmin == 0        ? "grade_min"
                                                    : "grade_max",
                                 "type, title, grade_min and grade_max are required"),
               -1;
    char why[128];
    const char *at = NULL;
    if (!library_fields_check(f, why, sizeof(why), &at))
        return reply_field_error(r, 400, "bad_item", at, "%s", why), -1;
    int e = fs->subject > 0 ? db_exists(r->db, "SELECT 1 FROM subjects WHERE id = :id",
                                        DB_ARGS(DB_INT(":id", fs->subject)))
                            : 1;
    if (e < 0)
        return reply_db_error(r), -1;
    if (e == 0)
        return reply_field_error(r, 400, "bad_item", "subject_id", "no such subject"), -1;
    return 0;
}

/* The arguments both the create and the update statements name, then `extra` (a DB_ARGS
 * list), into `args` (room for ITEM_ARGS_MAX). */
enum { ITEM_ARGS_MAX = 16 };
static const struct db_arg *fields_args(const struct item_fields *fs, const struct db_arg *extra,
                                        struct db_arg args[ITEM_ARGS_MAX])
{
    const struct library_fields *f = &fs->f;
    size_t n = 0;
    args[n++] = (struct db_arg)DB_TEXT(":type", f->type);
    args[n++] = (struct db_arg)DB_TEXT(":title", f->title);
    args[n++] = (struct db_arg)DB_TEXT(":description", f->description);
    args[n++] = (struct db_arg)DB_TEXT(":body", f->body);
    args[n++] = (struct db_arg)DB_INT(":subject", fs->subject);
    args[n++] = (struct db_arg)DB_INT(":gmin", f->grade_min);
    args[n++] = (struct db_arg)DB_INT(":gmax", f->grade_max);
    args[n++] = (struct db_arg)DB_TEXT(":authors", f->authors);
    args[n++] = (struct db_arg)DB_TEXT(":licence", f->licence);
    args[n++] = (struct db_arg)DB_TEXT(":language", f->language);
    for (; extra != NULL && extra->name != NULL; extra++) {
        assert(n < ITEM_ARGS_MAX - 1);
        args[n++] = *extra;
    }
    args[n] = (struct db_arg){.name = NULL};
    return args;
}

/* The school of the caller's teaching role, or 0 (a regional author). */
static int64_t author_school(const struct req *r)
{
    for (int i = 0; i < r->caller.ngrants; i++)
        if (r->caller.grants[i].role == ROLE_TEACHER && r->caller.grants[i].institution_id)
            return r->caller.grants[i].institution_id;
    return 0;
}

/* POST /api/v1/library/items: a draft by a teacher or a methodologist. */
static int library_item_create(struct req *r)
{
    struct item_fields f;
    if (fields_or_respond(r, &f, true) != 0)
        return r->status;
    int64_t school = author_school(r);
    struct db_arg args[ITEM_ARGS_MAX];
    int rc =
        db_run(r->db,
               "INSERT INTO library_items (uid, type, title, description, body, subject_id, "
               "grade_min, grade_max, authors, licence, language, origin, institution_id, "
               "author_id, status) VALUES ('new:' || hex(randomblob(8)), :type, :title, "
               "coalesce(:description, ''), coalesce(:body, ''), CASE WHEN :subject > 0 THEN "
               ":subject END, :gmin, "
               ":gmax, coalesce(:authors, (SELECT last_name || ' ' || first_name FROM persons "
               "WHERE id = :me)), coalesce(:licence, 'CC BY 4.0'), coalesce(:language, 'ru'), "
               ":origin, nullif(:school, 0), :me, 'draft')",
               fields_args(&f,
                           DB_ARGS(DB_TEXT(":origin", school ? "school" : "region"),
                                   DB_INT(":school", school), DB_INT(":me", r->caller.person_id)),
                           args));
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    int64_t id = db_last_id(r->db);
    if (db_run(r->db, "UPDATE library_items SET uid = 'r' || :code || '-' || id WHERE id = :id",
               DB_ARGS(DB_TEXT(":code", r->node->cfg.region.code), DB_INT(":id", id))) !=
        SQLITE_DONE)
        return reply_db_error(r);
    r->params[0] = id;
    rc = library_item_get(r);
    return rc == 200 ? (r->status = 201) : rc;
}

/* PATCH /api/v1/library/items/{id}: the author changes a draft or a rejected item. */
static int library_item_patch(struct req *r)
{
    struct item it;
    struct item_fields f;
    if (fields_or_respond(r, &f, false) != 0 || item_editable_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    struct db_arg args[ITEM_ARGS_MAX];
    int rc =
        db_run(r->db,
               "UPDATE library_items SET type = coalesce(:type, type), title = coalesce(:title, "
               "title), description = coalesce(:description, description), body = "
               "coalesce(:body, body), subject_id = CASE :subject WHEN 0 THEN subject_id WHEN -1 "
               "THEN NULL ELSE :subject END, grade_min = coalesce(nullif(:gmin, 0), grade_min), "
               "grade_max = coalesce(nullif(:gmax, 0), grade_max), authors = coalesce(:authors, "
               "authors), licence = coalesce(:licence, licence), language = coalesce(:language, "
               "language), updated_at = unixepoch() WHERE id = :id",
               fields_args(&f, DB_ARGS(DB_INT(":id", it.id)), args));
    if ((rc & 0xff) == SQLITE_CONSTRAINT) /* the grades' CHECK on the merged values */
        return reply_field_error(r, 400, "bad_item", "grade_min",
                                 "grade_min must not exceed grade_max");
    if (rc != SQLITE_DONE)
        return reply_db_error(r);
    return library_item_get(r);
}

/* POST /api/v1/library/items/{id}/submit: the author sends the item for review. */
static int library_item_submit(struct req *r)
{
    struct item it;
    if (item_editable_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    if (strcmp(it.type, "test") == 0) {
        int has = db_exists(r->db, "SELECT 1 FROM library_questions WHERE item_id = :id",
                            DB_ARGS(DB_INT(":id", it.id)));
        if (has != 1)
            return has < 0 ? reply_db_error(r)
                           : reply_field_error(r, 409, "no_questions", "questions",
                                               "a test needs its questions before review");
    }
    if (db_run(r->db,
               "UPDATE library_items SET status = 'submitted', updated_at = unixepoch() WHERE id "
               "= :id",
               DB_ARGS(DB_INT(":id", it.id))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200,
                      json_pack("{s:I,s:s}", "id", (json_int_t)it.id, "status", "submitted"));
}

/* POST /api/v1/library/items/{id}/revisions: the author of an approved item of the region
 * opens a new version of it: a draft with the item's fields, files and questions, which
 * replaces the item when approved (revisions.sql). One open revision per item. */
static int library_item_revise(struct req *r)
{
    struct item it;
    if (item_visible_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    if (strcmp(it.origin, "hub") == 0)
        return reply_error(r, 403, "forbidden", "items from the hub are read-only here");
    if (it.author == 0 || it.author != r->caller.person_id)
        return reply_error(r, 403, "forbidden", "only its author revises an item");
    if (strcmp(it.status, "approved") != 0)
        return reply_error(r, 409, "conflict",
                           "change the %s item itself: only approved items "
                           "get revisions",
                           it.status);
    int open = db_exists(r->db, "SELECT 1 FROM library_items WHERE revision_of = :id",
                         DB_ARGS(DB_INT(":id", it.id)));
    if (open != 0)
        return open < 0 ? reply_db_error(r)
                        : reply_error(r, 409, "conflict", "the item already has an open revision");
    if (db_run(r->db,
               "INSERT INTO library_items (uid, type, title, description, body, subject_id, "
               "grade_min, grade_max, authors, licence, language, origin, institution_id, "
               "author_id, version, status, cover_blob_id, revision_of) SELECT uid || '.v' || "
               "(version + 1), type, title, description, body, subject_id, grade_min, grade_max, "
               "authors, licence, language, origin, institution_id, author_id, version + 1, "
               "'draft', cover_blob_id, id FROM library_items WHERE id = :id",
               DB_ARGS(DB_INT(":id", it.id))) != SQLITE_DONE)
        return reply_db_error(r);
    int64_t draft = db_last_id(r->db);
    static const char *const copies[] = {
        "INSERT INTO library_files (item_id, name, type, blob_id) SELECT :new, name, type, "
        "blob_id FROM library_files WHERE item_id = :id",
        "INSERT INTO library_questions (item_id, position, kind, prompt, options, answer, points) "
        "SELECT :new, position, kind, prompt, options, answer, points FROM library_questions "
        "WHERE item_id = :id",
    };
    for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++)
        if (db_run(r->db, copies[i], DB_ARGS(DB_INT(":new", draft), DB_INT(":id", it.id))) !=
            SQLITE_DONE)
            return reply_db_error(r);
    r->params[0] = draft;
    int rc = library_item_get(r);
    return rc == 200 ? (r->status = 201) : rc;
}

/* Approval of a revision: its content replaces the approved item's (same id and uid, the
 * revision's version), its files and questions move over, the item's old files that nothing
 * names any more are released, and the revision goes; all in the caller's transaction. */
static int revision_merge(struct req *r, const struct item *draft, const char *comment)
{
    int64_t item = draft->revision_of;
    json_t *old_blobs = json_array();
    sqlite3_stmt *st = db_query(r->db, "SELECT blob_id FROM library_files WHERE item_id = :id",
                                DB_ARGS(DB_INT(":id", item)));
    int rc;
    while (db_next(st, &rc))
        json_array_append_new(old_blobs, json_integer(sqlite3_column_int64(st, 0)));
    if (rc != SQLITE_DONE)
        goto fail;
    rc = db_run(r->db,
                "UPDATE library_items SET (type, title, description, body, subject_id, grade_min, "
                "grade_max, authors, licence, language, cover_blob_id, version) = (SELECT type, "
                "title, description, body, subject_id, grade_min, grade_max, authors, licence, "
                "language, cover_blob_id, version FROM library_items WHERE id = :draft), "
                "review_comment = :c, reviewed_by = :me, reviewed_at = unixepoch(), updated_at = "
                "unixepoch() WHERE id = :item",
                DB_ARGS(DB_INT(":draft", draft->id), DB_TEXT(":c", comment),
                        DB_INT(":me", r->caller.person_id), DB_INT(":item", item)));
    if (rc != SQLITE_DONE)
        goto fail;
    const struct db_arg *on_item = DB_ARGS(DB_INT(":item", item));
    const struct db_arg *on_draft = DB_ARGS(DB_INT(":draft", draft->id));
    const struct db_arg *moving = DB_ARGS(DB_INT(":item", item), DB_INT(":draft", draft->id));
    const struct {
        const char *sql;
        const struct db_arg *args;
    } steps[] = {
        {"DELETE FROM library_files WHERE item_id = :item", on_item},
        {"UPDATE library_files SET item_id = :item WHERE item_id = :draft", moving},
        {"DELETE FROM library_questions WHERE item_id = :item", on_item},
        {"UPDATE library_questions SET item_id = :item WHERE item_id = :draft", moving},
        {"DELETE FROM library_items WHERE id = :draft", on_draft},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (db_run(r->db, steps[i].sql, steps[i].args) != SQLITE_DONE)
            goto fail;
    size_t i;
    json_t *b;
    json_array_foreach(old_blobs, i, b)
    {
        if (blob_release(r->db, json_integer_value(b)) != 0)
            goto fail;
    }
    json_decref(old_blobs);
    return reply_json(r, 200,
                      json_pack("{s:I,s:s,s:s,s:I}", "id", (json_int_t)item, "status", "approved",
                                "comment", comment, "replaced", (json_int_t)draft->id));
fail:
    json_decref(old_blobs);
    return reply_db_error(r);
}

/* Tells the author of item `it` the verdict `kind` (library_approved, library_returned or
 * library_rejected) with the methodologist's comment and the item's title (data: item_id,
 * text, comment), in the review's transaction; items
 * without an author here (the hub's, the regions' contributions) tell nobody. 0, or -1 on a
 * database error. */
static int review_notify(struct req *r, const struct item *it, const char *kind,
                         const char *comment)
{
    if (it->author == 0)
        return 0;
    /* An approved revision becomes the item it revises; any other verdict leaves it as is. */
    int64_t target =
        strcmp(kind, "library_approved") == 0 && it->revision_of ? it->revision_of : it->id;
    char *title = NULL;
    if (db_text(r->db, &title, "SELECT title FROM library_items WHERE id = :id",
                DB_ARGS(DB_INT(":id", it->id))) != SQLITE_ROW)
        return free(title), -1;
    json_t *data = json_pack("{s:I,s:s,s:s}", "item_id", (json_int_t)target, "text", title,
                             "comment", comment);
    free(title);
    int rc = data ? notify_person(r->db, it->author, 0, kind, data) : -1;
    json_decref(data);
    return rc;
}

/* POST /api/v1/library/items/{id}/review {verdict: approve|return|reject, comment}: a
 * methodologist decides on a submitted item (not one of their own). approve publishes it;
 * return sends it back to its author as a draft to change and submit again; reject closes
 * it (the author may still change it and submit it anew). return and reject need a comment
 * for the author, who sees it on the item and is notified of every verdict. */
static int library_item_review(struct req *r)
{
    const char *verdict, *comment = "";
    if (body_unpack_or_respond(r, "{s:s,s?s}", "verdict", &verdict, "comment", &comment) != 0)
        return r->status;
    bool approve = strcmp(verdict, "approve") == 0, back = strcmp(verdict, "return") == 0;
    if (!approve && !back && strcmp(verdict, "reject") != 0)
        return reply_field_error(r, 400, "bad_review", "verdict",
                                 "verdict is approve, return or reject");
    if (!school_text_ok(comment, 0, 5000))
        return reply_field_error(r, 400, "bad_review", "comment", "comment up to 5000");
    if (!approve && comment[0] == '\0')
        return reply_field_error(r, 400, "bad_review", "comment",
                                 "returning or rejecting needs a comment for the author");
    struct item it;
    if (item_visible_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    if (it.author == r->caller.person_id)
        return reply_error(r, 403, "forbidden", "nobody reviews their own item");
    if (strcmp(it.status, "submitted") != 0)
        return reply_error(r, 409, "conflict", "only submitted items are reviewed (this one is %s)",
                           it.status);
    if (back && it.author == 0)
        return reply_field_error(r, 409, "no_author", "verdict",
                                 "an item without an author here cannot go back for changes");
    const char *kind = approve ? "library_approved"
                       : back  ? "library_returned"
                               : "library_rejected";
    if (review_notify(r, &it, kind, comment) != 0)
        return reply_db_error(r);
    if (approve && it.revision_of != 0)
        return revision_merge(r, &it, comment);
    const char *status = approve ? "approved" : back ? "draft" : "rejected";
    if (db_run(r->db,
               "UPDATE library_items SET status = :s, review_comment = :c, reviewed_by = :me, "
               "reviewed_at = unixepoch(), updated_at = unixepoch() WHERE id = :id",
               DB_ARGS(DB_TEXT(":s", status), DB_TEXT(":c", comment),
                       DB_INT(":me", r->caller.person_id), DB_INT(":id", it.id))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(
        r, 200,
        json_pack("{s:I,s:s,s:s}", "id", (json_int_t)it.id, "status", status, "comment", comment));
}

/* PUT /api/v1/library/items/{id}/questions {questions: [...]}: the author sets a test's
 * questions with their answer keys (library_question_check), replacing the previous ones.
 * A refused question answers 400 with its code and field ("questions[N].FIELD", N from 0)
 * and changes nothing. */
static int library_questions_put(struct req *r)
{
    json_t *qs;
    if (body_unpack_or_respond(r, "{s:o}", "questions", &qs) != 0)
        return r->status;
    if (!json_is_array(qs) || json_array_size(qs) == 0 || json_array_size(qs) > 200)
        return reply_field_error(r, 400, "bad_questions", "questions",
                                 "questions must be a list of 1-200");
    struct item it;
    if (item_editable_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    if (strcmp(it.type, "test") != 0)
        return reply_error(r, 409, "conflict", "only test items have questions");
    if (db_run(r->db, "DELETE FROM library_questions WHERE item_id = :id",
               DB_ARGS(DB_INT(":id", it.id))) != SQLITE_DONE)
        return reply_db_error(r);
    size_t i;
    json_t *q;
    json_array_foreach(qs, i, q)
    {
        struct library_question lq;
        char why[128], where[48];
        const char *code = "bad_request", *field = NULL;
        if (library_question_check_field(q, &lq, why, sizeof(why), &code, &field) != 0) {
            if (field == NULL)
                return reply_error(r, 503, code, "%s", why);
            snprintf(where, sizeof(where), "questions[%zu].%s", i, field);
            return reply_field_error(r, 400, code, where, "question %zu: %s", i + 1, why);
        }
        int rc = db_run(r->db,
                        "INSERT INTO library_questions (item_id, position, kind, prompt, "
                        "options, answer, points) VALUES (:id, :pos, :k, :p, :o, :a, :pts)",
                        DB_ARGS(DB_INT(":id", it.id), DB_INT(":pos", (int64_t)i + 1),
                                DB_TEXT(":k", lq.kind), DB_TEXT(":p", lq.prompt),
                                DB_TEXT(":o", lq.options), DB_TEXT(":a", lq.answer),
                                DB_INT(":pts", lq.points)));
        library_question_free(&lq);
        if (rc != SQLITE_DONE)
            return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:I,s:I}", "id", (json_int_t)it.id, "questions",
                                (json_int_t)json_array_size(qs)));
}

/* GET /api/v1/library/items/{id}/questions: a test's questions with their answer keys, in the
 * form PUT takes them, for the editor: to its author, and to the methodologists while it is
 * under review. Nobody else ever gets a key. */
static int library_questions_get(struct req *r)
{
    struct item it;
    if (item_visible_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    bool mine = it.author != 0 && it.author == r->caller.person_id;
    if (!mine && !(reviewer(r) && strcmp(it.status, "submitted") == 0))
        return reply_error(r, 403, "forbidden",
                           "a test's answers are for its author and its reviewers");
    if (strcmp(it.type, "test") != 0)
        return reply_error(r, 409, "conflict", "only test items have questions");
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT id, kind, prompt, options, answer, points FROM "
                                "library_questions WHERE item_id = :id ORDER BY position",
                                DB_ARGS(DB_INT(":id", it.id)));
    json_t *questions = json_array();
    int rc;
    while (db_next(st, &rc)) {
        json_t *opts = json_loads(db_col_text(st, 3), 0, NULL);
        json_t *key = json_loads(db_col_text(st, 4), 0, NULL);
        json_array_append_new(questions, json_pack("{s:I,s:s,s:s,s:o,s:o,s:i}", "id",
                                                   (json_int_t)sqlite3_column_int64(st, 0), "kind",
                                                   db_col_text(st, 1), "prompt", db_col_text(st, 2),
                                                   "options", opts ? opts : json_array(), "answer",
                                                   key ? key : json_array(), "points",
                                                   sqlite3_column_int(st, 5)));
    }
    if (rc != SQLITE_DONE) {
        json_decref(questions);
        return reply_db_error(r);
    }
    return reply_json(r, 200,
                      json_pack("{s:I,s:o}", "id", (json_int_t)it.id, "questions", questions));
}

/* Compares a text answer with an accepted one: case-insensitive for Latin letters, exact
 * otherwise, surrounding spaces ignored. */
static bool text_matches(const char *given, const char *accepted)
{
    while (*given == ' ')
        given++;
    size_t n = strlen(given);
    while (n > 0 && given[n - 1] == ' ')
        n--;
    return strlen(accepted) == n && strncasecmp(given, accepted, n) == 0;
}

/* Whether `given` is right for a question of `kind` with key `key`. */
static bool answer_right(const char *kind, json_t *key, json_t *given)
{
    if (strcmp(kind, "text") == 0) {
        if (!json_is_string(given))
            return false;
        for (size_t i = 0; i < json_array_size(key); i++)
            if (text_matches(json_string_value(given), json_string_value(json_array_get(key, i))))
                return true;
        return false;
    }
    if (strcmp(kind, "matching") == 0) {
        /* The right-hand item of every left-hand one, in the options' order. */
        if (!json_is_array(given) || json_array_size(given) != json_array_size(key))
            return false;
        for (size_t i = 0; i < json_array_size(key); i++)
            if (!json_is_string(json_array_get(given, i)) ||
                strcmp(json_string_value(json_array_get(given, i)),
                       json_string_value(json_array_get(key, i))) != 0)
                return false;
        return true;
    }
    /* single, multiple: the same set of option indexes. */
    if (json_is_integer(given)) {
        json_t *one = json_pack("[O]", given);
        bool ok = answer_right(kind, key, one);
        json_decref(one);
        return ok;
    }
    if (!json_is_array(given) || json_array_size(given) != json_array_size(key))
        return false;
    for (size_t i = 0; i < json_array_size(key); i++) {
        bool found = false;
        for (size_t j = 0; j < json_array_size(given) && !found; j++)
            found = json_is_integer(json_array_get(given, j)) &&
                    json_integer_value(json_array_get(given, j)) ==
                        json_integer_value(json_array_get(key, i));
        if (!found)
            return false;
    }
    return true;
}

/* Scores `answers` against test `id`'s keys: the per-question results into `results`, the
 * totals into *score and *max. 0, or -1 on a database error. */
static int attempt_score(struct req *r, int64_t id, json_t *answers, json_t *results,
                         json_int_t *score, json_int_t *max)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT id, kind, answer, points FROM library_questions "
                                "WHERE item_id = :id ORDER BY position",
                                DB_ARGS(DB_INT(":id", id)));
    int rc;
    while (db_next(st, &rc)) {
        json_int_t qid = sqlite3_column_int64(st, 0), pts = sqlite3_column_int(st, 3);
        json_t *key = json_loads(db_col_text(st, 2), 0, NULL), *given = NULL, *a;
        size_t i;
        json_array_foreach(answers, i, a)
        {
            json_t *qa = json_object_get(a, "question_id");
            if (json_is_integer(qa) && json_integer_value(qa) == qid)
                given = json_object_get(a, "answer");
        }
        bool right = key != NULL && given != NULL && answer_right(db_col_text(st, 1), key, given);
        json_decref(key);
        *max += pts;
        *score += right ? pts : 0;
        json_array_append_new(results, json_pack("{s:I,s:b,s:I}", "question_id", qid, "correct",
                                                 right, "points", right ? pts : 0));
    }
    return rc == SQLITE_DONE ? 0 : -1;
}

/* POST /api/v1/library/items/{id}/attempts {answers: [{question_id, answer}]}: scores an
 * attempt at a test on the server. The answer tells which questions were right, never what
 * the right answers are. */
static int library_attempt(struct req *r)
{
    json_t *answers;
    if (body_unpack_or_respond(r, "{s:o}", "answers", &answers) != 0)
        return r->status;
    if (!json_is_array(answers) || json_array_size(answers) > 200)
        return reply_error(r, 400, "bad_request", "answers must be a list");
    struct item it;
    if (item_visible_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    if (strcmp(it.type, "test") != 0)
        return reply_error(r, 409, "conflict", "only tests are attempted");
    json_t *results = json_array();
    json_int_t score = 0, max = 0;
    if (attempt_score(r, it.id, answers, results, &score, &max) != 0 ||
        db_run(r->db,
               "INSERT INTO library_attempts (item_id, person_id, score, max_score) VALUES (:id, "
               ":me, :s, :m)",
               DB_ARGS(DB_INT(":id", it.id), DB_INT(":me", r->caller.person_id),
                       DB_INT(":s", score), DB_INT(":m", max))) != SQLITE_DONE) {
        json_decref(results);
        return reply_db_error(r);
    }
    return reply_json(r, 201,
                      json_pack("{s:I,s:I,s:I,s:o}", "attempt_id", (json_int_t)db_last_id(r->db),
                                "score", score, "max_score", max, "results", results));
}

/* POST /api/v1/library/items/{id}/files?name=NAME (body: the file; cover=1 makes it the
 * cover): the author adds a file to a draft. */
static int library_file_add(struct req *r)
{
    char name[256], cover[8] = "";
    if (req_query(r, "name", name, sizeof(name)) < 0 || !file_name_ok(name))
        return reply_error(r, 400, "bad_request",
                           "query parameter 'name' must be a file name of 1-200 bytes");
    req_query(r, "cover", cover, sizeof(cover));
    bool is_cover = strcmp(cover, "1") == 0;
    if (is_cover && strncmp(r->upload->type, "image/", 6) != 0)
        return reply_error(r, 400, "bad_request", "a cover is an image");
    struct item it;
    if (item_editable_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    int64_t blob = blob_store_or_respond(r);
    if (blob == 0)
        return r->status;
    if (db_run(r->db,
               "INSERT INTO library_files (item_id, name, type, blob_id) VALUES (:id, :n, :t, "
               ":b) ON CONFLICT (item_id, name) DO UPDATE SET type = excluded.type, blob_id = "
               "excluded.blob_id",
               DB_ARGS(DB_INT(":id", it.id), DB_TEXT(":n", name), DB_TEXT(":t", r->upload->type),
                       DB_INT(":b", blob))) != SQLITE_DONE)
        return reply_db_error(r);
    if (is_cover && db_run(r->db, "UPDATE library_items SET cover_blob_id = :b WHERE id = :id",
                           DB_ARGS(DB_INT(":b", blob), DB_INT(":id", it.id))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 201,
                      json_pack("{s:s,s:s,s:I,s:b}", "name", name, "type", r->upload->type, "size",
                                (json_int_t)r->upload->size, "cover", is_cover));
}

/* GET /api/v1/library/files/{id}: a file of an item the caller may see. */
static int library_file_get(struct req *r)
{
    sqlite3_stmt *st = db_query(r->db,
                                "SELECT item_id, blob_id, name, type FROM library_files "
                                "WHERE id = :id",
                                DB_ARGS(DB_INT(":id", r->params[0])));
    int rc;
    if (!db_next(st, &rc))
        return rc == SQLITE_DONE ? reply_error(r, 404, "not_found", "no such file")
                                 : reply_db_error(r);
    int64_t item_id = sqlite3_column_int64(st, 0), blob = sqlite3_column_int64(st, 1);
    char name[256], type[128];
    snprintf(name, sizeof(name), "%s", db_col_text(st, 2));
    snprintf(type, sizeof(type), "%s", db_col_text(st, 3));
    sqlite3_reset(st);
    struct item it;
    if (item_visible_or_respond(r, item_id, &it) != 0)
        return r->status;
    return reply_blob(r, blob, name, type);
}

/* PUT and DELETE /api/v1/library/items/{id}/favourite */
static int library_favourite(struct req *r, bool on)
{
    struct item it;
    if (item_visible_or_respond(r, r->params[0], &it) != 0)
        return r->status;
    if (db_run(r->db,
               on ? "INSERT INTO library_favourites (person_id, item_id) VALUES (:me, :id) ON "
                    "CONFLICT DO NOTHING"
                  : "DELETE FROM library_favourites WHERE person_id = :me AND item_id = :id",
               DB_ARGS(DB_INT(":me", r->caller.person_id), DB_INT(":id", it.id))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 200, json_pack("{s:I,s:b}", "id", (json_int_t)it.id, "favourite", on));
}

static int library_favourite_put(struct req *r)
{
    return library_favourite(r, true);
}

static int library_favourite_delete(struct req *r)
{
    return library_favourite(r, false);
}

/* A page of a list: ?limit= (1-LIST_PAGE_MAX, LIST_PAGE_MAX when absent) and ?offset= (0 or
 * more). 0, or -1 after answering 400. */
enum { LIST_PAGE_MAX = 500 };
static int page_or_respond(struct req *r, int64_t *limit, int64_t *offset)
{
    char buf[32];
    char *end;
    *limit = LIST_PAGE_MAX;
    *offset = 0;
    if (req_query(r, "limit", buf, sizeof(buf)) > 0 &&
        ((*limit = strtoll(buf, &end, 10)) < 1 || *limit > LIST_PAGE_MAX || *end != '\0'))
        return reply_error(r, 400, "bad_request", "limit must be 1-%d", LIST_PAGE_MAX), -1;
    if (req_query(r, "offset", buf, sizeof(buf)) > 0 &&
        ((*offset = strtoll(buf, &end, 10)) < 0 || *end != '\0'))
        return reply_error(r, 400, "bad_request", "offset must be 0 or more"), -1;
    return 0;
}

/* Answers {"items": [one `row` per row of `page`], "total": the count `count_sql` gives with
 * `args`}, or 500 when a step of either fails. */
static int reply_page(struct req *r, sqlite3_stmt *page, json_t *(*row)(sqlite3_stmt *st),
                      const char *count_sql, const struct db_arg *args)
{
    json_t *items = json_array();
    int rc;
    while (db_next(page, &rc))
        json_array_append_new(items, row(page));
    int64_t total = 0;
    if (rc != SQLITE_DONE || db_int(r->db, &total, count_sql, args) != SQLITE_ROW) {
        json_decref(items);
        return reply_db_error(r);
    }
    return reply_json(r, 200, json_pack("{s:o,s:I}", "items", items, "total", (json_int_t)total));
}

/* GET /api/v1/library/favourites?limit=&offset=: the caller's favourites that they may still
 * see, newest first, a page of them (up to 500) and their total. */
static int library_favourites(struct req *r)
{
    int64_t limit, offset;
    if (page_or_respond(r, &limit, &offset) != 0)
        return r->status;
    const struct db_arg *me = DB_ARGS(DB_INT(":me", r->caller.person_id));
    sqlite3_stmt *page = db_query(
        r->db,
        "SELECT " ITEM_COLUMNS " FROM library_favourites v JOIN library_items i ON i.id = "
        "v.item_id LEFT JOIN subjects s ON s.id = i.subject_id WHERE v.person_id = :me AND "
        "(i.status = 'approved' OR i.author_id = :me) ORDER BY v.created_at DESC, v.item_id DESC "
        "LIMIT :limit OFFSET :offset",
        DB_ARGS(DB_INT(":me", r->caller.person_id), DB_INT(":limit", limit),
                DB_INT(":offset", offset)));
    return reply_page(r, page, item_row,
                      "SELECT count(*) FROM library_favourites v JOIN library_items i ON i.id = "
                      "v.item_id WHERE v.person_id = :me AND (i.status = 'approved' OR "
                      "i.author_id = :me)",
                      me);
}

/* Attaches an approved item to a lesson or a homework the caller may write. */
static int attach(struct req *r, bool homework)
{
    json_int_t item;
    if (body_unpack_or_respond(r, "{s:I}", "item_id", &item) != 0)
        return r->status;
    int64_t lesson = homework ? homework_lesson_or_respond(r, r->params[0]) : r->params[0];
    if (lesson == 0 || authz_lesson_or_respond(r, lesson, AUTHZ_WRITE, NULL) != 0)
        return r->status;
    struct item it;
    if (item_visible_or_respond(r, item, &it) != 0)
        return r->status;
    if (strcmp(it.status, "approved") != 0)
        return reply_error(r, 409, "conflict", "only approved items go to lessons");
    if (db_run(r->db,
               homework ? "INSERT INTO homework_items (homework_id, item_id, added_by) VALUES "
                          "(:t, :i, :me) ON CONFLICT DO NOTHING"
                        : "INSERT INTO lesson_items (lesson_id, item_id, added_by) VALUES (:t, "
                          ":i, :me) ON CONFLICT DO NOTHING",
               DB_ARGS(DB_INT(":t", r->params[0]), DB_INT(":i", item),
                       DB_INT(":me", r->caller.person_id))) != SQLITE_DONE)
        return reply_db_error(r);
    /* Each use counts once: MES rewards authors by use. */
    if (db_changes(r->db) > 0 &&
        db_run(r->db, "UPDATE library_items SET uses = uses + 1 WHERE id = :i",
               DB_ARGS(DB_INT(":i", item))) != SQLITE_DONE)
        return reply_db_error(r);
    return reply_json(r, 201,
                      json_pack("{s:I,s:I}", homework ? "homework_id" : "lesson_id",
                                (json_int_t)r->params[0], "item_id", item));
}

static int library_lesson_attach(struct req *r)
{
    return attach(r, false);
}

static int library_homework_attach(struct req *r)
{
    return attach(r, true);
}

/* DELETE /api/v1/lessons/{id}/items/{item} */
static int library_lesson_detach(struct req *r)
{
    if (authz_lesson_or_respond(r, r->params[0], AUTHZ_WRITE, NULL) != 0)
        return r->status;
    if (db_run(r->db, "DELETE FROM lesson_items WHERE lesson_id = :l AND item_id = :i",
               DB_ARGS(DB_INT(":l", r->params[0]), DB_INT(":i", r->params[1]))) != SQLITE_DONE)
        return reply_db_error(r);
    if (db_changes(r->db) == 0)
        return reply_error(r, 404, "not_found", "the item is not on this lesson");
    return reply_json(r, 200, json_pack("{s:b}", "ok", 1));
}

static json_t *author_row(sqlite3_stmt *st)
{
    return json_pack("{s:{s:I,s:o},s:I,s:I}", "author", "id",
                     (json_int_t)sqlite3_column_int64(st, 0), "name", ref_person_name(st, 1),
                     "items", (json_int_t)sqlite3_column_int64(st, 4), "uses",
                     (json_int_t)sqlite3_column_int64(st, 5));
}

/* GET /api/v1/library/authors?limit=&offset=: contributions per author (approved items, their
 * uses), which MES rewards, the most used first, a page of them (up to 500) and their total;
 * for methodologists and admins. */
static int library_authors(struct req *r)
{
    if (!reviewer(r))
        return reply_error(r, 403, "forbidden", "for methodologists");
    int64_t limit, offset;
    if (page_or_respond(r, &limit, &offset) != 0)
        return r->status;
    sqlite3_stmt *page = db_query(r->db,
                                  "SELECT p.id, p.last_name, p.first_name, p.middle_name, "
                                  "count(*), sum(i.uses) FROM library_items i JOIN persons p "
                                  "ON p.id = i.author_id WHERE i.status = 'approved' GROUP "
                                  "BY p.id ORDER BY sum(i.uses) DESC, count(*) DESC, p.id LIMIT "
                                  ":limit OFFSET :offset",
                                  DB_ARGS(DB_INT(":limit", limit), DB_INT(":offset", offset)));
    return reply_page(r, page, author_row,
                      "SELECT count(DISTINCT author_id) FROM library_items WHERE status = "
                      "'approved'",
                      NULL);
}

/* GET /api/v1/library/types: {"types": [...]}, the item types (library_item_types), for the
 * web interface's choices. */
static int library_types(struct req *r)
{
    json_t *types = json_array();
    for (const char *const *t = library_item_types; *t != NULL; t++)
        json_array_append_new(types, json_string(*t));
    return reply_json(r, 200, json_pack("{s:o}", "types", types));
}

#define AUTHORS (ROLE_TEACHER | ROLE_METHODOLOGIST)

const struct route library_routes[] = {
    {.method = "GET",
     .path = "/api/v1/library/items",
     .handler = library_search,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "library_search"},
    {.method = "POST",
     .path = "/api/v1/library/items",
     .handler = library_item_create,
     .access = ACCESS_USER,
     .allow = AUTHORS,
     .writes = true,
     .name = "library_item_create"},
    {.method = "GET",
     .path = "/api/v1/library/items/{id}",
     .handler = library_item_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "library_item_get"},
    {.method = "PATCH",
     .path = "/api/v1/library/items/{id}",
     .handler = library_item_patch,
     .access = ACCESS_USER,
     .allow = AUTHORS,
     .writes = true,
     .name = "library_item_patch"},
    {.method = "POST",
     .path = "/api/v1/library/items/{id}/submit",
     .handler = library_item_submit,
     .access = ACCESS_USER,
     .allow = AUTHORS,
     .writes = true,
     .name = "library_item_submit"},
    {.method = "POST",
     .path = "/api/v1/library/items/{id}/revisions",
     .handler = library_item_revise,
     .access = ACCESS_USER,
     .allow = AUTHORS,
     .writes = true,
     .name = "library_item_revise"},
    {.method = "POST",
     .path = "/api/v1/library/items/{id}/review",
     .handler = library_item_review,
     .access = ACCESS_USER,
     .allow = ROLE_METHODOLOGIST | ROLE_ADMIN,
     .writes = true,
     .name = "library_item_review"},
    {.method = "PUT",
     .path = "/api/v1/library/items/{id}/questions",
     .handler = library_questions_put,
     .access = ACCESS_USER,
     .allow = AUTHORS,
     .writes = true,
     .name = "library_questions_put"},
    {.method = "GET",
     .path = "/api/v1/library/items/{id}/questions",
     .handler = library_questions_get,
     .access = ACCESS_USER,
     .allow = AUTHORS | ROLE_ADMIN,
     .name = "library_questions_get"},
    {.method = "POST",
     .path = "/api/v1/library/items/{id}/attempts",
     .handler = library_attempt,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .writes = true,
     .name = "library_attempt"},
    {.method = "POST",
     .path = "/api/v1/library/items/{id}/files",
     .handler = library_file_add,
     .access = ACCESS_USER,
     .allow = AUTHORS,
     .writes = true,
     .name = "library_file_add",
     .upload = true},
    {.method = "GET",
     .path = "/api/v1/library/files/{id}",
     .handler = library_file_get,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "library_file_get"},
    {.method = "PUT",
     .path = "/api/v1/library/items/{id}/favourite",
     .handler = library_favourite_put,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .writes = true,
     .name = "library_favourite_put"},
    {.method = "DELETE",
     .path = "/api/v1/library/items/{id}/favourite",
     .handler = library_favourite_delete,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .writes = true,
     .name = "library_favourite_delete"},
    {.method = "GET",
     .path = "/api/v1/library/package",
     .handler = library_package,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "library_package"},
    {.method = "GET",
     .path = "/api/v1/library/favourites",
     .handler = library_favourites,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "library_favourites"},
    {.method = "GET",
     .path = "/api/v1/library/authors",
     .handler = library_authors,
     .access = ACCESS_USER,
     .allow = ROLE_METHODOLOGIST | ROLE_ADMIN,
     .name = "library_authors"},
    {.method = "GET",
     .path = "/api/v1/library/types",
     .handler = library_types,
     .access = ACCESS_USER,
     .allow = ROLES_ANY,
     .name = "library_types",
     .self_tx = true},
    {.method = "POST",
     .path = "/api/v1/lessons/{id}/items",
     .handler = library_lesson_attach,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "lesson_item_attach"},
    {.method = "DELETE",
     .path = "/api/v1/lessons/{id}/items/{item}",
     .handler = library_lesson_detach,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "lesson_item_detach"},
    {.method = "POST",
     .path = "/api/v1/homework/{id}/items",
     .handler = library_homework_attach,
     .access = ACCESS_USER,
     .allow = ROLE_TEACHER,
     .writes = true,
     .name = "homework_item_attach"},
    {0},
};
