-- Certificates of study («справка об обучении», migration 6): issued on a parent's request,
-- signed with the node's Ed25519 key over the exact payload text, checkable by anyone who
-- holds the link (its signature is the proof of holding it).

CREATE TABLE certificates (
    id           INTEGER PRIMARY KEY,
    student_id   INTEGER NOT NULL REFERENCES persons(id),
    requested_by INTEGER NOT NULL REFERENCES persons(id),
    issued_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    payload      TEXT NOT NULL,      -- canonical JSON (sorted keys, compact): what was signed
    signature    BLOB NOT NULL       -- Ed25519, 64 bytes
);
CREATE INDEX certificates_by_student ON certificates(student_id);
