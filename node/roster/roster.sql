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
