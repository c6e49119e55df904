-- Files: content-addressed bodies, for homework attachments now and the library later.
-- Schema version 8. node/files/files.c holds the store.

-- A file body, stored once however many attachments use it: keyed by the BLAKE2b-256 of the
-- original bytes, compressed with zstd when that saves space, checked against the hash
-- whenever it is read.
CREATE TABLE blobs (
    id         INTEGER PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    size       INTEGER NOT NULL CHECK (size >= 0),        -- original bytes
    zstd       INTEGER NOT NULL CHECK (zstd IN (0, 1)),   -- `data` is a zstd frame
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (unixepoch())
);
