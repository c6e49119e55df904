-- The hub's key rotation (docs/federation.md, "Key rotation"). Schema version 18.
-- federation/rotation.c writes and follows the statements.

-- At the hub: each change of its key, announced in a statement signed by the key it replaces.
CREATE TABLE fed_key_statements (
    id         INTEGER PRIMARY KEY,
    old_key    TEXT NOT NULL,
    new_key    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    statement  BLOB NOT NULL,  -- the signed JSON, byte for byte
    signature  TEXT NOT NULL
);

-- At a region: the hub key it follows after a rotation (absent: the key pinned in its
-- configuration).
CREATE TABLE fed_hub_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    public_key  TEXT NOT NULL,
    followed_at INTEGER NOT NULL
);
