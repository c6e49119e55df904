-- Statistics reports (docs/federation.md, "Reports"). Schema version 16.
-- federation/report.c computes, queues, pushes (regions) and receives them (the hub).

-- At a region: every report made, in sequence; survives restarts until the hub took it.
CREATE TABLE fed_outbox (
    sequence     INTEGER PRIMARY KEY CHECK (sequence >= 1),  -- never reused
    period       TEXT NOT NULL,                              -- YYYY-MM
    created_at   INTEGER NOT NULL,
    body         BLOB NOT NULL,                              -- the signed report JSON
    signature    TEXT NOT NULL,
    sent_at      INTEGER,                                    -- when the hub accepted it
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL DEFAULT 0,                 -- backoff after a failure
    last_error   TEXT NOT NULL DEFAULT ''
);

-- At the hub: the reports received, once per region and sequence.
CREATE TABLE fed_reports (
    region      TEXT NOT NULL,
    sequence    INTEGER NOT NULL,
    period      TEXT NOT NULL,
    received_at INTEGER NOT NULL DEFAULT (unixepoch()),
    hash        BLOB NOT NULL,    -- BLAKE2b-256 of body: the same again is a duplicate
    body        BLOB NOT NULL,
    signature   TEXT NOT NULL,
    PRIMARY KEY (region, sequence)
) WITHOUT ROWID;
CREATE INDEX fed_reports_by_period ON fed_reports(period, region, sequence);
