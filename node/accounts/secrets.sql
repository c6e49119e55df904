-- Secrets the node makes for itself (migration 20). They live in the database rather than in
-- the configuration, which operators copy, print and keep under version control; a backup of
-- the database carries them. One row per use:
--   device_cookie  32 random bytes, the key of the MAC on the login throttle's device cookies,
--                  made at the first start of `serve` (accounts/throttle.c; docs/security.md,
--                  "Login throttling"). Replacing it only makes browsers log in once more
--                  before they are trusted again.
CREATE TABLE node_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
