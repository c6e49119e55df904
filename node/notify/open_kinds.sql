-- A notification's kind is named by the subsystem that writes it, and the interface's catalog
-- makes its text («Москвёнок» adds entries, exits and the low balance). The table no longer
-- lists the kinds (every new one needed the table made anew): it checks their form only. It
-- is made anew once more for that, its indexes with it.
CREATE TABLE notifications_new (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons(id),   -- the recipient
    kind        TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 40
                                     AND kind NOT GLOB '*[^a-z_]*'),
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
