/*
 * Files: a content-addressed store of file bodies in the database (files.sql), used by
 * homework attachments and, later, the library. A body is keyed by its BLAKE2b-256, stored
 * once however many records name it, compressed with zstd when that saves space, and checked
 * against its hash whenever it is read.
 *
 * An upload route (struct route .upload) receives a file as its raw body: the dispatcher
 * reads, hashes and compresses it on the worker thread (upload_read_or_respond) so that the
 * writer thread only inserts the prepared bytes (blob_store).
 */
#ifndef MES_FILES_H
#define MES_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* Reads the request body into r->upload; answers 400/411/413 itself and returns -1. */
int upload_read_or_respond(struct req *r);
void upload_free(struct upload *u);

/* Fills `u` for `len` bytes in buf (malloc'ed; u takes it, and may swap it for its zstd
 * frame): hash, size, the bytes to store. upload_free(u)'s data part frees it. */
void upload_prepare(struct upload *u, unsigned char *buf, size_t len);

/* The original bytes of an upload (malloc'ed; the caller frees), *len their length; NULL
 * when out of memory or damaged. */
unsigned char *upload_bytes(const struct upload *u, size_t *len);

/* Stores r->upload's body (once per hash) and returns its blob id, or 0 after answering. */
int64_t blob_store_or_respond(struct req *r);
/* The same outside a request: the blob id, or 0 on a database error. */
int64_t blob_put(struct db *db, const struct upload *u);
/* Stores `len` bytes (hashed here, compressed when that saves space; the caller keeps `data`)
 * as a blob: its id, or 0 when out of memory or on a database error. */
int64_t blob_put_data(struct db *db, const void *data, size_t len);
/* The same for bytes whose BLAKE2b-256 the caller has checked to be `hash` (a bundle's reader
 * did): not hashed again, and not compressed when the body is already stored. */
int64_t blob_put_hashed(struct db *db, const unsigned char hash[32], const void *data, size_t len);
/* The store's form of a body, made on any thread (a bundle reader's decoding thread, say): its
 * zstd frame when compressing saves space, or NULL when it is kept raw (or out of memory: raw
 * then too). blob_packed_free frees it. */
struct blob_packed;
struct blob_packed *blob_pack(const void *data, size_t len);
void blob_packed_free(struct blob_packed *p);
/* Stores a body whose hash the caller checked, in the form blob_pack gave (NULL: raw): its id,
 * or 0 on a database error. */
int64_t blob_put_packed(struct db *db, const unsigned char hash[32], const void *data, size_t len,
                        const struct blob_packed *p);
/* A large import's bodies, staged outside the write lock (db.h, db_stage_*): blob_stage puts
 * the store's form of `len` bytes (blob_pack's `p`, NULL: raw) under a staged id and returns
 * it with *zstd, or 0 on a store failure; blob_insert_staged, inside a write transaction once
 * the stage is flushed, inserts the row of that id: 1 inserted, 0 when a blob of this hash is
 * stored already (the staged body is then unused), -1 on a database error. */
struct db_stage;
int64_t blob_stage(struct db *db, struct db_stage *sg, const void *data, size_t len,
                   const struct blob_packed *p, bool *zstd);
int blob_insert_staged(struct db *db, int64_t id, const unsigned char hash[32], size_t size,
                       bool zstd);
/* The id of the blob with this hash, or 0 when there is none or on a database error (which is
 * recorded as the thread's failure: db.h). */
int64_t blob_id(struct db *db, const unsigned char hash[32]);
/* Deletes a blob that no record names any more (call after deleting such a record). */
int blob_release(struct db *db, int64_t blob_id);
/* Answers a blob's original bytes as a download named `name` (UTF-8) of media type `type`:
 * inline for a few passive types (images, PDF, plain text), as an attachment otherwise, always
 * sandboxed. 500 when the stored bytes no longer match their hash. */
int reply_blob(struct req *r, int64_t blob_id, const char *name, const char *type);

/* A blob's original bytes (malloc'ed; the caller frees), checked against its hash, which is
 * copied to `hash`, and their length in *size; *packed (may be NULL) says whether the store
 * keeps it compressed (it compressed: not stored raw for want of saving space). NULL with *why:
 * 404 no such blob, 500 the stored bytes no longer match their hash (logged), -1 a database
 * error. */
unsigned char *blob_load(struct db *db, int64_t blob_id, unsigned char hash[32], size_t *size,
                         int *why, bool *packed);

/* A blob row as a caller that read many at once has it (`in_row`: length(data) > 0, the row
 * keeps its bytes itself, as rows written before the blob store do). */
struct blob_row {
    int64_t id;
    unsigned char hash[32];
    size_t size;
    bool zstd, in_row;
};
/* blob_load for such a row, without reading it again (the body, b->size bytes). */
unsigned char *blob_load_row(struct db *db, const struct blob_row *b, int *why);

/* A file name as people give it: 1-200 bytes of UTF-8 without control characters or path
 * separators. */
int file_name_ok(const char *name);

#endif
