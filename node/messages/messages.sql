-- Messages (migration 5): private threads between two people about one student - a parent
-- and a teacher of the child (the child cannot read them), or a teacher and the student.

CREATE TABLE threads (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('parent_teacher', 'teacher_student')),
    student_id  INTEGER NOT NULL REFERENCES persons(id),
    a_id        INTEGER NOT NULL REFERENCES persons(id),  -- who opened it
    b_id        INTEGER NOT NULL REFERENCES persons(id),
    title       TEXT NOT NULL,
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    last_at     INTEGER NOT NULL DEFAULT (unixepoch()),
    a_read      INTEGER NOT NULL DEFAULT 0,               -- last message id each side has read
    b_read      INTEGER NOT NULL DEFAULT 0,
    CHECK (a_id <> b_id)
);
CREATE INDEX threads_of_a ON threads(a_id, last_at);
CREATE INDEX threads_of_b ON threads(b_id, last_at);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    thread_id   INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    author_id   INTEGER NOT NULL REFERENCES persons(id),
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX messages_of_thread ON messages(thread_id, id);
