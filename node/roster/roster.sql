-- The roster import (migration 23): what each source id became, so that importing the same
-- files again changes nothing and a later export updates in place (docs/roster.md).
-- kind: 'd' a district (municipality), 's' a school (institution), 'o' another org (kept
-- only to know the id), 'y' an academic year, 't' a term (local_id: its year), 'c' a course
-- (local_id: its subject), 'h' a homeroom (a class; extra: its institution), 'x' a scheduled
-- class (local_id: its homeroom's class; extra: institution << 20 | subject), 'u' a user (a
-- person; extra: the role bit the import gave). Source ids of the Russian CSV template are
-- made from the school and the person (docs/roster.md); they start with "ru:".
-- digest: a hash of the source row's fields the import uses: unchanged, the row is skipped.
-- left: the person left (missing from a bulk file, or tobedeleted): never deleted.
CREATE TABLE roster_ids (
    kind       TEXT NOT NULL,
    source_id  TEXT NOT NULL,
    local_id   INTEGER NOT NULL,
    extra      INTEGER NOT NULL DEFAULT 0,
    digest     INTEGER NOT NULL DEFAULT 0,
    left       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, source_id)
) WITHOUT ROWID;

-- A person's phone and e-mail as the source gave them (guardians' above all: letters and
-- notices reach them there).
CREATE TABLE roster_contacts (
    person_id  INTEGER PRIMARY KEY REFERENCES persons(id),
    phone      TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT ''
);

-- An upload from /admin/import waiting to be applied: its bytes (a zip of a OneRoster set, or
-- the template's CSV; a zstd frame when `zstd`), who sent it and for which school (NULL: the
-- region admin, the whole region). The bytes are dropped once applied.
CREATE TABLE roster_uploads (
    id             INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: a replaced upload stays gone
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    institution_id INTEGER REFERENCES institutions(id),
    format         TEXT NOT NULL CHECK (format IN ('oneroster', 'csv')),
    size           INTEGER NOT NULL,
    zstd           INTEGER NOT NULL,
    data           BLOB NOT NULL,
    created_at     INTEGER NOT NULL DEFAULT (unixepoch()),
    applied_at     INTEGER
);
