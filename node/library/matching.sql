-- Matching questions and the methodologists' verdicts. Schema version 28. node/library/item.c
-- checks the questions, node/library/library.c gives the verdicts.
--
-- A test question may match pairs: `options` holds the left-hand items and `answer` (the key)
-- the right-hand item of each, in the same order; the student gets the right-hand items in a
-- random order and answers with one of them per left-hand item. SQLite cannot change a CHECK,
-- so library_questions is made anew with 'matching' among its kinds (nothing refers to it).
CREATE TABLE library_questions_new (
    id       INTEGER PRIMARY KEY,
    item_id  INTEGER NOT NULL REFERENCES library_items(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('single', 'multiple', 'text', 'matching')),
    prompt   TEXT NOT NULL,
    options  TEXT NOT NULL DEFAULT '[]',  -- JSON array of strings (choices, left-hand items)
    answer   TEXT NOT NULL,               -- JSON: option indexes, accepted texts, right-hand items
    points   INTEGER NOT NULL DEFAULT 1 CHECK (points BETWEEN 1 AND 100),
    UNIQUE (item_id, position)
);
INSERT INTO library_questions_new (id, item_id, position, kind, prompt, options, answer, points)
    SELECT id, item_id, position, kind, prompt, options, answer, points FROM library_questions;
DROP TABLE library_questions;
ALTER TABLE library_questions_new RENAME TO library_questions;

-- The author of a library item is notified of the verdict on it: approved, returned for
-- changes, or rejected (data: item_id, text = the item's title, comment). The notifications
-- table is made anew the same way (nothing refers to it), its indexes with it.
CREATE TABLE notifications_new (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons(id),   -- the recipient
    kind        TEXT NOT NULL CHECK (kind IN ('mark', 'mark_changed', 'homework', 'absence',
                                              'absence_notice', 'message', 'library_approved',
                                              'library_returned', 'library_rejected')),
    student_id  INTEGER REFERENCES persons(id),            -- whom it is about
    data        TEXT NOT NULL DEFAULT '{}',                -- JSON: subject, value, date, ...
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    read_at     INTEGER
);
INSERT INTO notifications_new (id, person_id, kind, student_id, data, created_at, read_at)
    SELECT id, person_id, kind, student_id, data, created_at, read_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_inbox ON notifications(person_id, id);
CREATE INDEX notifications_unread ON notifications(person_id) WHERE read_at IS NULL;
