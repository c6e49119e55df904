/*
 * The library (PRODUCT.md section 3 item 7): items of every type with their metadata and
 * files, Russian full-text search, the review workflow, tests scored on the server, and the
 * items' use in lessons and homework. library.sql is its schema.
 */
#ifndef MES_LIBRARY_H
#define MES_LIBRARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Registers the "mes_stem" FTS5 tokenizer for every database connection opened after this
 * call (stem.c). Safe to call from any thread, any number of times. */
void library_tokenizer_init(void);

/* Registers the "mes_rank" FTS5 ranking function (rank.c) on a connection's FTS5; called with
 * the tokenizer's registration. SQLITE_OK or an error code. */
typedef struct fts5_api fts5_api;
int library_rank_register(fts5_api *api);

/* Turns what a person typed into an FTS5 query (malloc'ed, NULL when out of memory): each word
 * a quoted term, all required. Words are runs of letters and digits (any byte of a multi-byte
 * UTF-8 letter counts); everything else, FTS5's operators included, only separates them. ""
 * when there is no word. */
char *library_fts_query(const char *text);

struct req;
struct ms_public;
struct db;

/* ---- What an item is (item.c): one check for items from people and from other machines ---- */

/* The item types, NULL-terminated: the one list. library.sql's CHECK names the same (a unit
 * test compares them) and the web interface reads it from GET /api/v1/library/types. */
extern const char *const library_item_types[];
/* A test question's kinds, NULL-terminated (matching.sql's CHECK on library_questions.kind). */
extern const char *const library_question_kinds[];
bool library_type_ok(const char *type);

#define LIBRARY_BODY_MAX 200000 /* bytes of an item's text */

/* An item's own fields; NULL (or 0 for a grade) is a field left out, which is not checked. */
struct library_fields {
    const char *type, *title, *description, *body, *authors, *licence, *language;
    int64_t grade_min, grade_max;
};
/* Checks the fields that are there: the type among library_item_types, title 1-300,
 * description up to 5000, authors up to 500, licence 1-100 and language 2-8 characters (no
 * control characters), body up to LIBRARY_BODY_MAX bytes, grades 1-11 and grade_min <=
 * grade_max when both are given. true, or false with the reason in err. */
bool library_fields_ok(const struct library_fields *f, char *err, size_t errlen);
/* The same, also naming the JSON field at fault in *field on failure (a static string:
 * "type", "title", "description", "authors", "licence", "language", "body", "grade_min" or
 * "grade_max"); *field is NULL when every field is good. */
bool library_fields_check(const struct library_fields *f, char *err, size_t errlen,
                          const char **field);

/* A checked test question: kind and prompt point into the question's JSON; options (a JSON
 * list of strings) and answer (the key: option indexes, accepted texts, or for a matching
 * question the right-hand item of each option) are compact JSON text, malloc'ed, freed by
 * library_question_free. */
struct library_question {
    const char *kind, *prompt;
    char *options, *answer;
    int64_t points;
};
/* Checks question `q` ({kind, prompt, options, answer, points}; other fields are ignored): kind
 * single or multiple with 2-20 options of 1-500 characters and a key of distinct option
 * indexes (one for single); text with no options and 1-200-character accepted answers; or
 * matching with 2-20 left-hand items as options and the key the right-hand item of each, in
 * the same order (1-500 characters, no item twice on a side); a prompt of 1-2000 characters;
 * points 1-100 (1 when absent). 0 with `out` filled, or -1 with the reason in err and nothing
 * to free. */
int library_question_check(json_t *q, struct library_question *out, char *err, size_t errlen);
/* The same, also naming on failure the API's error code (*code, e.g. "question_pairs") and the
 * question's field at fault (*field: "kind", "prompt", "options", "answer" or "points"); both
 * static strings, either pointer may be NULL. */
int library_question_check_field(json_t *q, struct library_question *out, char *err, size_t errlen,
                                 const char **code, const char **field);
/* A matching question's right-hand items (its key, JSON text) in a random order, for the one
 * who answers it: a new list (an empty one when the key is not a list). */
json_t *library_matching_shuffle(const char *key);
void library_question_free(struct library_question *q);

/* An item's uid as exchanges carry it: 1-64 letters, digits, '-', '_' or '.', not starting
 * with '.' (a folder name when a package is unpacked). */
bool library_uid_ok(const char *uid);

/* Appends item `id` as exchange JSON (docs/federation.md) to `items`: metadata, files by blob
 * hash, a test's questions, with their answer keys only when with_keys (the hub's channel to
 * regions; never to people). Its blobs go into `blobs` (hex hash -> {"hash", "size"}) and
 * `blob_ids` (hex hash -> blob id), once each. 0, or -1 on a database error. */
int library_item_export(struct db *db, int64_t id, bool with_keys, json_t *items, json_t *blobs,
                        json_t *blob_ids);

/* Applying the hub channel's `items` to this region's library inside the caller's write
 * transaction. Each entry is {"uid", "doc": hash of the item's document}: an item that came
 * from that very document is left as it is, any other is read, validated and inserted or
 * updated by uid as an approved item of origin "hub" (files by blob hash, which must already be
 * stored; questions with their keys); the hub's items that are no longer listed are removed
 * unless a lesson or a homework uses them; blobs nothing names any more are released.
 * In steps, for a reader that meets the documents as it goes (a bundle's): begin
 * works out what changes (and sets the full-text index aside for a large change) and returns
 * the change, NULL with err; offer gives a document whose hash the caller checked, and the
 * entries it is the document of are written now when their blobs are already stored (at the
 * end otherwise), 0 or -1 with err; end writes the entries not offered (read with load), then
 * removes and releases; *changed and *removed count items; free frees the change in every
 * case. The channel's imports use the step functions below; these serve one transaction. */
struct hub_change;
struct hub_change *library_hub_begin(struct db *db, json_t *items, char *err, size_t errlen);
int library_hub_offer(struct hub_change *c, const unsigned char hash[32], json_t *doc, char *err,
                      size_t errlen);
int library_hub_end(struct hub_change *c,
                    json_t *(*load)(void *ctx, json_t *entry, char *err, size_t errlen), void *ctx,
                    long *changed, long *removed, char *err, size_t errlen);
void library_hub_free(struct hub_change *c);
/* The same in short write transactions of their own (a large import that must not hold the
 * write lock for long): begin_steps works out what changes, reading only (call it outside a
 * write transaction; the full-text index is never set aside, since other writers go on);
 * step, inside a write transaction on `db` (the writer's connection, say), writes up to `max`
 * of the entries still to write, read with load, and makes `db` the change's connection for
 * what follows (end, inside the last transaction). The number of entries still to write, or
 * -1 with err (the caller rolls that transaction back). */
struct hub_change *library_hub_begin_steps(struct db *db, json_t *items, char *err, size_t errlen);
long library_hub_step(struct hub_change *c, struct db *db,
                      json_t *(*load)(void *ctx, json_t *entry, char *err, size_t errlen),
                      void *ctx, size_t max, char *err, size_t errlen);

/* At the hub: writes a region's contributed item (exchange JSON, validated as a channel item;
 * its blobs already stored) as a submitted item of origin "region" under `uid`, its authors
 * followed by the region's name, for the hub's methodologists to review. Its id, or 0 with
 * err. */
int64_t library_contribution_write(struct db *db, json_t *item, const char *uid,
                                   const char *region_name, char *err, size_t errlen);

/* Checks that the caller may see item `id` (approved items everyone of the region; drafts their
 * author; others also the region's reviewers); 0, or -1 after answering 404 or 500. */
int library_item_visible_or_respond(struct req *r, int64_t id);

/* GET /api/v1/library/package (package.c): items as one signed offline package. */
int library_package(struct req *r);

/* Checks the library package in file `path` (a bundle signed by `pk`) and unpacks it into the
 * new directory `outdir`: index.html, manifest.json and a folder per item uid with its files
 * and item.json. Nothing is left at `outdir` unless every check passed. 0, or -1 with err. */
int library_package_open(const char *path, const struct ms_public *pk, const char *outdir,
                         char *err, size_t errlen);

#endif
