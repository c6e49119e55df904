-- Accounts and access (migration 2).
-- An account lets a person log in; its roles are grants, each scoped to an institution or
-- (institution_id NULL) to the whole region. Sessions and device tokens are stored as
-- BLAKE2b-256 hashes of the random tokens, so a copy of the database cannot log in.
-- The audit log records logins and every administrative change.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    person_id     INTEGER NOT NULL UNIQUE REFERENCES persons(id),
    login         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT,                            -- argon2id string; NULL: cannot log in yet
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL DEFAULT (unixepoch())
);

CREATE TABLE role_grants (
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'school_admin', 'teacher',
                       'class_teacher', 'student', 'parent', 'medic', 'methodologist',
                       'operator', 'ministry')),
    institution_id INTEGER REFERENCES institutions(id),
    UNIQUE (account_id, role, institution_id)
);
CREATE INDEX role_grants_by_institution ON role_grants(institution_id, role);

CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,                   -- BLAKE2b-256 of the token
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,                      -- echoed in X-CSRF-Token by cookie clients
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    address     TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_by_account ON sessions(account_id);

-- Turnstiles, buffet terminals, clinics: a token with scopes, bound to an institution
-- (NULL: region-wide, e.g. a clinic).
CREATE TABLE device_tokens (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    scopes         TEXT NOT NULL,                   -- space-separated: passage meals health
    institution_id INTEGER REFERENCES institutions(id),
    token_hash     BLOB NOT NULL UNIQUE,
    created_by     INTEGER REFERENCES accounts(id),
    created_at     INTEGER NOT NULL DEFAULT (unixepoch()),
    revoked_at     INTEGER
);

CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL DEFAULT (unixepoch()),
    account_id     INTEGER,                         -- who (NULL: anonymous, e.g. failed login)
    institution_id INTEGER,                         -- where, for school admins' view
    action         TEXT NOT NULL,                   -- "login", "login_failed", "class.create"
    object         TEXT NOT NULL DEFAULT '',        -- "class/12"
    detail         TEXT NOT NULL DEFAULT '{}',      -- JSON
    address        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_institution ON audit_log(institution_id, at);
