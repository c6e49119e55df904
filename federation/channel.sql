-- The library channel (docs/federation.md, "Library channel"). Schema version 14.
-- federation/channel.c publishes (hub), builds and imports bundles (regions).

-- At the hub: every published version of its library, as signed. Versions only grow.
CREATE TABLE channel_versions (
    version    INTEGER PRIMARY KEY CHECK (version >= 1),
    previous   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    items      INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,  -- the blobs' sizes summed
    manifest   BLOB NOT NULL,     -- the signed JSON, byte for byte
    signature  TEXT NOT NULL      -- its minisign signature
);

-- At a region: the version of the hub's channel its library holds (at most one row).
CREATE TABLE channel_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    version       INTEGER NOT NULL,
    manifest_hash BLOB NOT NULL,  -- BLAKE2b-256 of the manifest: the same version with other
                                  -- content is refused
    expires_at    INTEGER NOT NULL,
    imported_at   INTEGER NOT NULL
);

-- Releasing a blob looks for covers naming it; without this, a scan of every item.
CREATE INDEX library_items_by_cover ON library_items(cover_blob_id)
    WHERE cover_blob_id IS NOT NULL;
