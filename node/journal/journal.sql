-- Timetable and journal (migration 3).
-- A school's bell schedule numbers its lessons; a class (or one of its groups) has a weekly
-- timetable; dated lessons are generated from it for a period, skipping the region's
-- holidays, and may be cancelled or given to a replacement teacher. The journal hangs off the
-- lessons: marks (with a control form and weight, every change kept in mark_history),
-- attendance and homework. Period and final marks are set by the teacher.

CREATE TABLE bells (
    institution_id INTEGER NOT NULL REFERENCES institutions(id),
    number         INTEGER NOT NULL CHECK (number BETWEEN 0 AND 12),
    starts_at      TEXT NOT NULL,                 -- 'HH:MM'
    ends_at        TEXT NOT NULL,
    PRIMARY KEY (institution_id, number),
    CHECK (starts_at < ends_at)
) WITHOUT ROWID;

-- Weekly timetable: weekday 1 = Monday .. 6 = Saturday.
CREATE TABLE timetable (
    id          INTEGER PRIMARY KEY,
    class_id    INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    group_id    INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 6),
    number      INTEGER NOT NULL CHECK (number BETWEEN 0 AND 12),
    subject_id  INTEGER NOT NULL REFERENCES subjects(id),
    teacher_id  INTEGER NOT NULL REFERENCES persons(id),
    room        TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX timetable_slot ON timetable(class_id, weekday, number, coalesce(group_id, 0));

-- Control forms of marks, from the configuration (seeded at every start).
CREATE TABLE control_forms (
    id      INTEGER PRIMARY KEY,
    code    TEXT NOT NULL UNIQUE,
    name    TEXT NOT NULL,
    weight  INTEGER NOT NULL CHECK (weight BETWEEN 1 AND 10)
);

-- The calendar-thematic plan (КТП) of a class and subject: topics in order, each taking
-- `hours` lessons. Lessons take their topics from it in order.
CREATE TABLE plan_topics (
    id          INTEGER PRIMARY KEY,
    class_id    INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    subject_id  INTEGER NOT NULL REFERENCES subjects(id),
    number      INTEGER NOT NULL,
    title       TEXT NOT NULL,
    hours       INTEGER NOT NULL DEFAULT 1 CHECK (hours BETWEEN 1 AND 50),
    UNIQUE (class_id, subject_id, number)
);

CREATE TABLE lessons (
    id             INTEGER PRIMARY KEY,
    class_id       INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    group_id       INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    subject_id     INTEGER NOT NULL REFERENCES subjects(id),
    teacher_id     INTEGER NOT NULL REFERENCES persons(id),
    replacement_id INTEGER REFERENCES persons(id),  -- a replacement teacher for this lesson
    period_id      INTEGER NOT NULL REFERENCES periods(id),
    date           TEXT NOT NULL,                   -- 'YYYY-MM-DD'
    number         INTEGER NOT NULL,
    room           TEXT NOT NULL DEFAULT '',
    topic          TEXT NOT NULL DEFAULT '',
    topic_manual   INTEGER NOT NULL DEFAULT 0,      -- the teacher wrote the topic: the plan keeps off
    plan_topic_id  INTEGER REFERENCES plan_topics(id) ON DELETE SET NULL,
    cancelled      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX lessons_slot ON lessons(class_id, date, number, coalesce(group_id, 0));
CREATE INDEX lessons_journal ON lessons(class_id, subject_id, period_id, date);
CREATE INDEX lessons_by_teacher ON lessons(teacher_id, date);

-- A mark: value is '1'..'5' (within the region's scale) or 'pass' / 'fail'.
CREATE TABLE marks (
    id              INTEGER PRIMARY KEY,
    lesson_id       INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    student_id      INTEGER NOT NULL REFERENCES persons(id),
    value           TEXT NOT NULL,
    control_form_id INTEGER NOT NULL REFERENCES control_forms(id),
    weight          INTEGER NOT NULL CHECK (weight BETWEEN 1 AND 10),
    comment         TEXT NOT NULL DEFAULT '',
    exam            INTEGER NOT NULL DEFAULT 0,     -- "exam" / "deadline" flag
    created_by      INTEGER NOT NULL REFERENCES persons(id),
    created_at      INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at      INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX marks_by_lesson ON marks(lesson_id);
CREATE INDEX marks_by_student ON marks(student_id, lesson_id);

-- Every create, change and delete of a mark: who, when, old and new.
CREATE TABLE mark_history (
    id          INTEGER PRIMARY KEY,
    mark_id     INTEGER NOT NULL,                  -- kept after the mark is deleted
    lesson_id   INTEGER NOT NULL,
    student_id  INTEGER NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    old         TEXT,                              -- JSON of the mark before, NULL on create
    new         TEXT,                              -- JSON after, NULL on delete
    by_person   INTEGER NOT NULL,
    at          INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX mark_history_by_mark ON mark_history(mark_id);

CREATE TABLE attendance (
    lesson_id   INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    student_id  INTEGER NOT NULL REFERENCES persons(id),
    status      TEXT NOT NULL CHECK (status IN ('absent', 'late', 'ill')),
    justified   INTEGER NOT NULL DEFAULT 0,
    set_by      INTEGER NOT NULL REFERENCES persons(id),
    PRIMARY KEY (lesson_id, student_id)
) WITHOUT ROWID;
CREATE INDEX attendance_by_student ON attendance(student_id);

-- A parent tells the school a child will be (or was) away; absences in the range are
-- justified, now and when marked later.
CREATE TABLE absence_notices (
    id          INTEGER PRIMARY KEY,
    student_id  INTEGER NOT NULL REFERENCES persons(id),
    from_date   TEXT NOT NULL,
    to_date     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES persons(id),
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    CHECK (from_date <= to_date)
);
CREATE INDEX absence_notices_by_student ON absence_notices(student_id, from_date);

CREATE TABLE homework (
    id          INTEGER PRIMARY KEY,
    lesson_id   INTEGER NOT NULL REFERENCES lessons(id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    due_date    TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES persons(id),
    created_at  INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX homework_by_lesson ON homework(lesson_id);

-- A student's work on a homework: done or not, an answer, and the teacher's feedback.
CREATE TABLE homework_submissions (
    homework_id  INTEGER NOT NULL REFERENCES homework(id) ON DELETE CASCADE,
    student_id   INTEGER NOT NULL REFERENCES persons(id),
    done         INTEGER NOT NULL DEFAULT 0,
    text         TEXT NOT NULL DEFAULT '',
    updated_at   INTEGER NOT NULL DEFAULT (unixepoch()),
    feedback     TEXT NOT NULL DEFAULT '',
    feedback_by  INTEGER REFERENCES persons(id),
    feedback_at  INTEGER,
    PRIMARY KEY (homework_id, student_id)
) WITHOUT ROWID;

-- Period and final marks, set by the teacher (period_id NULL: the final mark of the year).
CREATE TABLE period_marks (
    student_id  INTEGER NOT NULL REFERENCES persons(id),
    subject_id  INTEGER NOT NULL REFERENCES subjects(id),
    year_id     INTEGER NOT NULL REFERENCES academic_years(id),
    period_id   INTEGER REFERENCES periods(id),
    value       TEXT NOT NULL,
    set_by      INTEGER NOT NULL REFERENCES persons(id),
    set_at      INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE UNIQUE INDEX period_marks_key ON period_marks(student_id, subject_id, year_id,
                                                     coalesce(period_id, 0));
