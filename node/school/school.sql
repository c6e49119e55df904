-- School structure of a region (migration 1).
-- Municipalities hold institutions; an academic year is split into periods by the region's
-- period system; classes (grade + letter) belong to an institution and a year and may be split
-- into groups; persons are everyone the node knows (students, staff, parents), with or
-- without an account. Students are persons with an enrollment in a class.
-- Dates are ISO 8601 text (YYYY-MM-DD); times are Unix seconds.

CREATE TABLE municipalities (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE,
    okato   TEXT NOT NULL DEFAULT ''            -- statistical code, may be empty
);

CREATE TABLE institutions (
    id              INTEGER PRIMARY KEY,
    municipality_id INTEGER NOT NULL REFERENCES municipalities(id),
    kind            TEXT NOT NULL CHECK (kind IN ('school', 'college')),
    name            TEXT NOT NULL,                  -- full official name
    short_name      TEXT NOT NULL,                  -- as people say it: «Школа № 5»
    address         TEXT NOT NULL DEFAULT '',
    UNIQUE (municipality_id, name)
);

CREATE TABLE academic_years (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,                -- "2026/2027"
    starts_on  TEXT NOT NULL,
    ends_on    TEXT NOT NULL,
    CHECK (starts_on < ends_on)
);

-- Quarters, trimesters or semesters, generated from the region's configuration.
CREATE TABLE periods (
    id         INTEGER PRIMARY KEY,
    year_id    INTEGER NOT NULL REFERENCES academic_years(id) ON DELETE CASCADE,
    number     INTEGER NOT NULL,                    -- 1-based, in date order
    name       TEXT NOT NULL,                       -- «1 четверть»
    starts_on  TEXT NOT NULL,
    ends_on    TEXT NOT NULL,
    UNIQUE (year_id, number),
    CHECK (starts_on <= ends_on)
);

-- The federal list (seeded below) plus regional subjects from the configuration.
CREATE TABLE subjects (
    id        INTEGER PRIMARY KEY,
    code      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL,
    regional  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE persons (
    id          INTEGER PRIMARY KEY,
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    middle_name TEXT NOT NULL DEFAULT '',
    birth_date  TEXT,                               -- NULL when unknown
    created_at  INTEGER NOT NULL DEFAULT (unixepoch())
);

CREATE TABLE classes (
    id              INTEGER PRIMARY KEY,
    institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    year_id         INTEGER NOT NULL REFERENCES academic_years(id),
    grade           INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 11),
    letter          TEXT NOT NULL,                  -- «А», «Б»
    class_teacher_id INTEGER REFERENCES persons(id), -- классный руководитель
    UNIQUE (institution_id, year_id, grade, letter)
);
CREATE INDEX classes_by_teacher ON classes(class_teacher_id);

-- A part of a class taught separately (e.g. English group 1).
CREATE TABLE groups (
    id        INTEGER PRIMARY KEY,
    class_id  INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    UNIQUE (class_id, name)
);

CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    student_id INTEGER NOT NULL REFERENCES persons(id),
    PRIMARY KEY (group_id, student_id)
) WITHOUT ROWID;

-- Employment of a person at an institution.
CREATE TABLE staff (
    person_id       INTEGER NOT NULL REFERENCES persons(id),
    institution_id  INTEGER NOT NULL REFERENCES institutions(id),
    position        TEXT NOT NULL,                  -- «учитель», «медицинская сестра»
    PRIMARY KEY (person_id, institution_id)
) WITHOUT ROWID;

-- Who teaches what to whom: teacher × class (or one of its groups) × subject.
CREATE TABLE teaching_assignments (
    id          INTEGER PRIMARY KEY,
    teacher_id  INTEGER NOT NULL REFERENCES persons(id),
    class_id    INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    subject_id  INTEGER NOT NULL REFERENCES subjects(id),
    group_id    INTEGER REFERENCES groups(id) ON DELETE CASCADE,
    UNIQUE (teacher_id, class_id, subject_id, group_id)
);
CREATE INDEX assignments_by_class ON teaching_assignments(class_id, subject_id);

-- A student's membership of a class; left_on is NULL while the student is in it.
CREATE TABLE enrollments (
    id          INTEGER PRIMARY KEY,
    student_id  INTEGER NOT NULL REFERENCES persons(id),
    class_id    INTEGER NOT NULL REFERENCES classes(id),
    enrolled_on TEXT NOT NULL,
    left_on     TEXT
);
CREATE UNIQUE INDEX enrollments_current ON enrollments(student_id) WHERE left_on IS NULL;
CREATE INDEX enrollments_by_class ON enrollments(class_id) WHERE left_on IS NULL;

-- Parents and other legal representatives.
CREATE TABLE guardians (
    guardian_id INTEGER NOT NULL REFERENCES persons(id),
    student_id  INTEGER NOT NULL REFERENCES persons(id),
    relation    TEXT NOT NULL DEFAULT 'parent' CHECK (relation IN ('mother', 'father', 'parent', 'guardian')),
    PRIMARY KEY (guardian_id, student_id),
    CHECK (guardian_id <> student_id)
) WITHOUT ROWID;
CREATE INDEX guardians_by_student ON guardians(student_id);

-- The federal curriculum's subjects (ФГОС), present in every region.
INSERT INTO subjects (code, name) VALUES
    ('rus', 'Русский язык'),
    ('lit', 'Литература'),
    ('lit_read', 'Литературное чтение'),
    ('math', 'Математика'),
    ('algebra', 'Алгебра'),
    ('geometry', 'Геометрия'),
    ('prob', 'Вероятность и статистика'),
    ('cs', 'Информатика'),
    ('world', 'Окружающий мир'),
    ('history', 'История'),
    ('social', 'Обществознание'),
    ('geo', 'География'),
    ('bio', 'Биология'),
    ('phys', 'Физика'),
    ('chem', 'Химия'),
    ('eng', 'Английский язык'),
    ('ger', 'Немецкий язык'),
    ('art', 'Изобразительное искусство'),
    ('music', 'Музыка'),
    ('tech', 'Труд (технология)'),
    ('pe', 'Физическая культура'),
    ('obzr', 'Основы безопасности и защиты Родины'),
    ('orkse', 'Основы религиозных культур и светской этики'),
    ('odnknr', 'Основы духовно-нравственной культуры народов России');
