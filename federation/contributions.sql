-- Contributions to the shared library (docs/federation.md, "Contributions"). Schema version 17.
-- federation/contrib.c sends them from regions and receives them at the hub.

-- At a region: its items proposed for the shared library, and the hub's verdicts.
CREATE TABLE fed_contributions (
    id          INTEGER PRIMARY KEY,  -- the number the hub knows it by, with the region's code
    item_id     INTEGER NOT NULL REFERENCES library_items(id) ON DELETE CASCADE,
    proposed_by INTEGER NOT NULL REFERENCES persons(id),
    proposed_at INTEGER NOT NULL DEFAULT (unixepoch()),
    status      TEXT NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'sent', 'approved', 'rejected')),
    comment     TEXT NOT NULL DEFAULT '',  -- the hub methodologist's
    hub_uid     TEXT,                      -- the item's uid in the shared library
    sent_at     INTEGER,
    decided_at  INTEGER,
    last_error  TEXT NOT NULL DEFAULT ''
);
-- One open contribution per item.
CREATE UNIQUE INDEX fed_contributions_open ON fed_contributions(item_id)
    WHERE status IN ('queued', 'sent');

-- At the hub: what each region contributed, once per (region, number); the verdict is the
-- item's own review.
CREATE TABLE fed_contributions_in (
    region      TEXT NOT NULL,
    number      INTEGER NOT NULL,
    item_id     INTEGER REFERENCES library_items(id) ON DELETE SET NULL,
    received_at INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (region, number)
) WITHOUT ROWID;
