-- «Москвёнок»'s top-ups: what the payment provider notified (POST /api/v1/meals/topups, signed
-- with HMAC-SHA-256 under meals.payment_secret), one row per payment id. A notification of the
-- same payment id again is a replay when its content hash is the same (answered "duplicate",
-- nothing applied) and a conflict otherwise (409). The money itself moves by one ledger row of
-- kind 'topup' whose `ref` is this row's id.
CREATE TABLE topups (
    id           INTEGER PRIMARY KEY,
    payment_id   TEXT NOT NULL UNIQUE,              -- the provider's id: 1-64 printable ASCII
    student_id   INTEGER NOT NULL REFERENCES persons(id),
    amount       INTEGER NOT NULL CHECK (amount > 0), -- kopecks
    paid_at      INTEGER NOT NULL,                  -- unix time, when the provider says it was paid
    received_at  INTEGER NOT NULL,                  -- unix time, when the node credited it
    content_hash BLOB NOT NULL                      -- BLAKE2b-256 of the body's JSON with its keys
                                                    -- sorted and no white space
);
CREATE INDEX topups_by_student ON topups(student_id);
