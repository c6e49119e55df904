-- «Москвёнок»'s passage (migration 34): what the turnstiles of a school saw. A carrier of a
-- student of the turnstile's school opens it and the event is kept under the student; any other
-- card (unknown, blocked, another school's student's) is answered "deny" and kept as a denial
-- with the identifier as read, so that the school sees who tried. Each event is one terminal's,
-- applied once by its key (terminal_events, moskvenok.sql). Times are unix seconds; `day` is the
-- node's local date of `at` (YYYY-MM-DD), as the diary's and the journal's days are.

-- An entry or exit of a student through a turnstile of their school.
CREATE TABLE passage_events (
    id             INTEGER PRIMARY KEY,
    student_id     INTEGER NOT NULL REFERENCES persons(id),
    card_id        INTEGER NOT NULL REFERENCES cards(id),
    institution_id INTEGER NOT NULL REFERENCES institutions(id), -- the turnstile's school
    device_id      INTEGER NOT NULL REFERENCES device_tokens(id),
    direction      TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    at             INTEGER NOT NULL,                -- when the turnstile saw it (its clock)
    day            TEXT NOT NULL,                   -- YYYY-MM-DD of `at`, the node's zone
    turnstile      TEXT                             -- the terminal's name for its gate, or NULL
);
-- A student's log, a day's first entry and last exit, whether they are in now.
CREATE INDEX passage_by_student ON passage_events(student_id, day, at);
-- A school's day: counts, who is in, per class.
CREATE INDEX passage_by_school_day ON passage_events(institution_id, day);

-- A card the turnstile refused: unknown, blocked, or a student's of another school.
CREATE TABLE passage_denials (
    id             INTEGER PRIMARY KEY,
    institution_id INTEGER NOT NULL REFERENCES institutions(id), -- the turnstile's school
    device_id      INTEGER NOT NULL REFERENCES device_tokens(id),
    card           TEXT NOT NULL,                   -- the identifier as the reader sent it
    card_id        INTEGER REFERENCES cards(id),    -- a known carrier (blocked, another school's)
    reason         TEXT NOT NULL CHECK (reason IN ('unknown_card', 'card_blocked',
                                                   'other_school')),
    direction      TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    at             INTEGER NOT NULL,
    day            TEXT NOT NULL,
    turnstile      TEXT
);
CREATE INDEX passage_denials_by_school_day ON passage_denials(institution_id, day, at);
