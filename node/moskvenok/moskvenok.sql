-- «Москвёнок»: the carriers that open turnstiles and pay at the buffet, one meal account per
-- student, the ledger of every movement of money, and what terminals sent, by key, so that
-- every event is applied exactly once. Passage, meals and top-ups have their own files.

-- A carrier: a card, a bracelet or a key fob, as the identifier its reader sends. Issued by the
-- school admin; blocked when lost (kept, so that a blocked card's use is told apart from an
-- unknown one) and replaced by a new one.
CREATE TABLE cards (
    id             INTEGER PRIMARY KEY,
    card           TEXT NOT NULL UNIQUE,            -- the identifier, as the reader sends it
    student_id     INTEGER NOT NULL REFERENCES persons(id),
    kind           TEXT NOT NULL DEFAULT 'card' CHECK (kind IN ('card', 'bracelet', 'fob')),
    institution_id INTEGER NOT NULL REFERENCES institutions(id), -- the school that issued it
    issued_by      INTEGER REFERENCES accounts(id),
    issued_at      INTEGER NOT NULL DEFAULT (unixepoch()),
    blocked_at     INTEGER,                         -- NULL: in use
    blocked_reason TEXT CHECK (blocked_reason IN ('lost', 'replaced', 'other')),
    replaced_by    INTEGER REFERENCES cards(id)
);
CREATE INDEX cards_by_student ON cards(student_id);

-- One meal account per student. `balance` is the sum of the student's ledger rows, kept here
-- so that a sale reads one row; the daily reconciliation checks the two agree.
CREATE TABLE meal_accounts (
    student_id   INTEGER PRIMARY KEY REFERENCES persons(id),
    balance      INTEGER NOT NULL DEFAULT 0,        -- kopecks
    daily_limit  INTEGER CHECK (daily_limit >= 0),  -- kopecks a day at the buffet; NULL: none
    blocked_at   INTEGER,                           -- a parent or the school stopped the account
    benefit      TEXT NOT NULL DEFAULT '',          -- one of meals.benefit_categories, or ''
    low_notified INTEGER NOT NULL DEFAULT 0         -- the low-balance notice went since the last
                                                    -- time the balance was above the threshold
) WITHOUT ROWID;

-- Every movement of money, never changed: a top-up (+), a sale (-), a refund (+).
CREATE TABLE ledger (
    id             INTEGER PRIMARY KEY,
    student_id     INTEGER NOT NULL REFERENCES persons(id),
    institution_id INTEGER REFERENCES institutions(id), -- the school of a sale or refund; a
                                                    -- top-up's: the student's school then
    day            TEXT NOT NULL,                   -- YYYY-MM-DD, the node's local date
    at             INTEGER NOT NULL,                -- unix time
    kind           TEXT NOT NULL CHECK (kind IN ('topup', 'sale', 'refund')),
    amount         INTEGER NOT NULL,                -- kopecks: + in, - out
    ref            INTEGER NOT NULL,                -- the top-up's, sale's or refund's id
    balance        INTEGER NOT NULL                 -- the account's balance after it
);
CREATE INDEX ledger_by_student ON ledger(student_id, at);
CREATE INDEX ledger_by_school_day ON ledger(institution_id, day);

-- Terminals (device tokens of scope passage or meals) number what they send 1, 2, 3... and
-- give each event a key. `held_seq`: every sequence number up to it is held here, so the
-- terminal may forget those; `last_seq`: the highest held.
CREATE TABLE terminals (
    device_id INTEGER PRIMARY KEY REFERENCES device_tokens(id),
    held_seq  INTEGER NOT NULL DEFAULT 0,
    last_seq  INTEGER NOT NULL DEFAULT 0,
    last_seen INTEGER NOT NULL DEFAULT 0
);

-- Every event a terminal sent, by its key: a key seen again is a duplicate, answered with what
-- was answered the first time (`reply`, JSON) and never applied again.
CREATE TABLE terminal_events (
    device_id INTEGER NOT NULL REFERENCES device_tokens(id),
    key       TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    reply     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (device_id, key)
) WITHOUT ROWID;
CREATE UNIQUE INDEX terminal_events_by_seq ON terminal_events(device_id, seq);
