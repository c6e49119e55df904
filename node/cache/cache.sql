-- Change counters for the read cache (node/cache/cache.c). Every insert, update and delete
-- in what the journal grid, the diary and the marks views read bumps a counter in the same
-- transaction: the counter of each class the row belongs to (scope = the class id) or, for
-- the tables every view shares (names, classes, bells, subjects, periods, control forms),
-- scope 0. A cached answer records the counters it was built under and is served only while
-- they are unchanged, read in the same snapshot as the request: it can never be stale.
CREATE TABLE change_counters (
    scope INTEGER PRIMARY KEY,   -- a class id, or 0 for the shared tables
    gen   INTEGER NOT NULL
);

-- lessons
CREATE TRIGGER lessons_cache_ins AFTER INSERT ON lessons BEGIN
    INSERT INTO change_counters (scope, gen) SELECT NEW.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER lessons_cache_upd AFTER UPDATE ON lessons BEGIN
    INSERT INTO change_counters (scope, gen) SELECT OLD.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT NEW.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER lessons_cache_del AFTER DELETE ON lessons BEGIN
    INSERT INTO change_counters (scope, gen) SELECT OLD.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- enrollments
CREATE TRIGGER enrollments_cache_ins AFTER INSERT ON enrollments BEGIN
    INSERT INTO change_counters (scope, gen) SELECT NEW.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER enrollments_cache_upd AFTER UPDATE ON enrollments BEGIN
    INSERT INTO change_counters (scope, gen) SELECT OLD.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT NEW.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER enrollments_cache_del AFTER DELETE ON enrollments BEGIN
    INSERT INTO change_counters (scope, gen) SELECT OLD.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- groups
CREATE TRIGGER groups_cache_ins AFTER INSERT ON groups BEGIN
    INSERT INTO change_counters (scope, gen) SELECT NEW.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER groups_cache_upd AFTER UPDATE ON groups BEGIN
    INSERT INTO change_counters (scope, gen) SELECT OLD.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT NEW.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER groups_cache_del AFTER DELETE ON groups BEGIN
    INSERT INTO change_counters (scope, gen) SELECT OLD.class_id, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- marks
CREATE TRIGGER marks_cache_ins AFTER INSERT ON marks BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = NEW.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER marks_cache_upd AFTER UPDATE ON marks BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = OLD.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = NEW.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER marks_cache_del AFTER DELETE ON marks BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = OLD.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- attendance
CREATE TRIGGER attendance_cache_ins AFTER INSERT ON attendance BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = NEW.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER attendance_cache_upd AFTER UPDATE ON attendance BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = OLD.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = NEW.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER attendance_cache_del AFTER DELETE ON attendance BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = OLD.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- homework
CREATE TRIGGER homework_cache_ins AFTER INSERT ON homework BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = NEW.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER homework_cache_upd AFTER UPDATE ON homework BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = OLD.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = NEW.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER homework_cache_del AFTER DELETE ON homework BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM lessons WHERE id = OLD.lesson_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- homework_submissions
CREATE TRIGGER homework_submissions_cache_ins AFTER INSERT ON homework_submissions BEGIN
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h JOIN lessons l ON l.id = h.lesson_id WHERE h.id = NEW.homework_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER homework_submissions_cache_upd AFTER UPDATE ON homework_submissions BEGIN
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h JOIN lessons l ON l.id = h.lesson_id WHERE h.id = OLD.homework_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h JOIN lessons l ON l.id = h.lesson_id WHERE h.id = NEW.homework_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER homework_submissions_cache_del AFTER DELETE ON homework_submissions BEGIN
    INSERT INTO change_counters (scope, gen) SELECT l.class_id, 1 FROM homework h JOIN lessons l ON l.id = h.lesson_id WHERE h.id = OLD.homework_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- group_members
CREATE TRIGGER group_members_cache_ins AFTER INSERT ON group_members BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM groups WHERE id = NEW.group_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER group_members_cache_upd AFTER UPDATE ON group_members BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM groups WHERE id = OLD.group_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM groups WHERE id = NEW.group_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER group_members_cache_del AFTER DELETE ON group_members BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM groups WHERE id = OLD.group_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- period_marks
CREATE TRIGGER period_marks_cache_ins AFTER INSERT ON period_marks BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM enrollments WHERE student_id = NEW.student_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER period_marks_cache_upd AFTER UPDATE ON period_marks BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM enrollments WHERE student_id = OLD.student_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM enrollments WHERE student_id = NEW.student_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER period_marks_cache_del AFTER DELETE ON period_marks BEGIN
    INSERT INTO change_counters (scope, gen) SELECT class_id, 1 FROM enrollments WHERE student_id = OLD.student_id
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
-- the shared tables
CREATE TRIGGER institutions_cache_ins AFTER INSERT ON institutions BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER institutions_cache_upd AFTER UPDATE ON institutions BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER institutions_cache_del AFTER DELETE ON institutions BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER academic_years_cache_ins AFTER INSERT ON academic_years BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER academic_years_cache_upd AFTER UPDATE ON academic_years BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER academic_years_cache_del AFTER DELETE ON academic_years BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER periods_cache_ins AFTER INSERT ON periods BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER periods_cache_upd AFTER UPDATE ON periods BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER periods_cache_del AFTER DELETE ON periods BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER subjects_cache_ins AFTER INSERT ON subjects BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER subjects_cache_upd AFTER UPDATE ON subjects BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER subjects_cache_del AFTER DELETE ON subjects BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER persons_cache_ins AFTER INSERT ON persons BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER persons_cache_upd AFTER UPDATE ON persons BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER persons_cache_del AFTER DELETE ON persons BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER classes_cache_ins AFTER INSERT ON classes BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER classes_cache_upd AFTER UPDATE ON classes BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER classes_cache_del AFTER DELETE ON classes BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER bells_cache_ins AFTER INSERT ON bells BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER bells_cache_upd AFTER UPDATE ON bells BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER bells_cache_del AFTER DELETE ON bells BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER control_forms_cache_ins AFTER INSERT ON control_forms BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER control_forms_cache_upd AFTER UPDATE ON control_forms BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
CREATE TRIGGER control_forms_cache_del AFTER DELETE ON control_forms BEGIN
    INSERT INTO change_counters (scope, gen) SELECT 0, 1 WHERE true
        ON CONFLICT (scope) DO UPDATE SET gen = gen + 1;
END;
