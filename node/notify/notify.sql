-- Notifications (migration 4): a feed per person of what happened to them or their children
-- (new or changed mark, homework, an absence, a parent's absence notice). The text is made by
-- the interface from `kind` and `data`, in the reader's language.

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES persons(id),   -- the recipient
    kind        TEXT NOT NULL CHECK (kind IN ('mark', 'mark_changed', 'homework', 'absence',
                                              'absence_notice', 'message')),
    student_id  INTEGER REFERENCES persons(id),            -- whom it is about
    data        TEXT NOT NULL DEFAULT '{}',                -- JSON: subject, value, date, ...
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    read_at     INTEGER
);
CREATE INDEX notifications_inbox ON notifications(person_id, id);
CREATE INDEX notifications_unread ON notifications(person_id) WHERE read_at IS NULL;
