-- One row for a family (migration 37). A notification about a student for the student and
-- each guardian (a mark, homework, an entry at the turnstile, the meal account) was a row per
-- recipient: a morning's passage wrote three rows and six index entries for every event. It is
-- one row now, family = 1, its person_id the student; the student and whoever is the student's
-- guardian when reading it read that one row. Who has read it is kept per reader:
-- notification_marks holds, per reader and student, the id up to which every family row is
-- read («read all»), notification_reads the single rows read above it. A person's own rows
-- (family = 0: a notice for the class teacher, a message, a verdict) keep read_at, and the
-- inbox indexes hold only them. Rows written before stay as they were, one per recipient.
-- The rows a reader's marks and reads name are not foreign keys: a key's check would make
-- every notification and person written look for rows naming it, and neither is ever removed.
ALTER TABLE notifications ADD COLUMN family INTEGER NOT NULL DEFAULT 0 CHECK (family IN (0, 1));
DROP INDEX notifications_inbox;
DROP INDEX notifications_unread;
CREATE INDEX notifications_inbox ON notifications(person_id, id) WHERE family = 0;
CREATE INDEX notifications_unread ON notifications(person_id) WHERE read_at IS NULL AND family = 0;
CREATE INDEX notifications_family ON notifications(student_id, id) WHERE family = 1;

CREATE TABLE notification_marks (
    person_id   INTEGER NOT NULL REFERENCES persons(id),   -- the reader
    student_id  INTEGER NOT NULL,                          -- whose family rows
    upto        INTEGER NOT NULL,                          -- every one with id <= upto is read
    PRIMARY KEY (person_id, student_id)
) WITHOUT ROWID;

CREATE TABLE notification_reads (
    person_id        INTEGER NOT NULL REFERENCES persons(id),
    notification_id  INTEGER NOT NULL,   -- a family row's id
    PRIMARY KEY (person_id, notification_id)
) WITHOUT ROWID;
