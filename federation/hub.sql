-- The hub's side of the federation. Schema version 15. federation/routes.c serves it,
-- federation/cli.c enrolls regions, federation/channel.c publishes.

-- The regions the hub operator enrolled: only their signed requests are answered.
CREATE TABLE fed_regions (
    code           TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 8),
    name           TEXT NOT NULL DEFAULT '',
    public_key     TEXT NOT NULL,  -- minisign "RW..." of the region node's key
    enrolled_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    key_changed_at INTEGER
);

-- The blobs the hub's channel has published: the only file bodies it serves to regions
-- (its own teachers' homework files never leave it).
CREATE TABLE channel_blobs (
    hash    BLOB PRIMARY KEY CHECK (length(hash) = 32),
    version INTEGER NOT NULL  -- the first version that listed it
) WITHOUT ROWID;
