-- Files on homework: the teacher's material and the students' hand-ins.
-- Schema version 9. Their routes are in homework.c; the bodies in blobs (node/files/).

-- A file on a homework: the teacher's material (student_id NULL) or a student's hand-in.
CREATE TABLE homework_files (
    id          INTEGER PRIMARY KEY,
    homework_id INTEGER NOT NULL REFERENCES homework(id) ON DELETE CASCADE,
    student_id  INTEGER REFERENCES persons(id),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type        TEXT NOT NULL,
    blob_id     INTEGER NOT NULL REFERENCES blobs(id),
    uploaded_by INTEGER NOT NULL REFERENCES persons(id),
    uploaded_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX homework_files_by_homework ON homework_files(homework_id, student_id);
CREATE INDEX homework_files_by_blob ON homework_files(blob_id);

-- The diary and the journal grid list these files: their changes bump the class's change
-- counter like the other journal tables (node/cache/cache.sql).
CREATE TRIGGER homework_files_cache_ins AFTER INSERT ON homework_files BEGIN
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h
        JOIN lessons l ON l.id = h.lesson_id WHERE h.id = NEW.homework_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER homework_files_cache_del AFTER DELETE ON homework_files BEGIN
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h
        JOIN lessons l ON l.id = h.lesson_id WHERE h.id = OLD.homework_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER homework_files_cache_upd AFTER UPDATE ON homework_files BEGIN
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h
        JOIN lessons l ON l.id = h.lesson_id WHERE h.id IN (OLD.homework_id, NEW.homework_id)
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
