-- The canteen operator («Москвёнок»: a school's buffet sales and refunds) joins the roles a
-- grant may hold. SQLite cannot change a CHECK constraint in place: the table is made anew
-- with every row, and its index.
CREATE TABLE role_grants_new (
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'school_admin', 'teacher',
                       'class_teacher', 'student', 'parent', 'medic', 'methodologist',
                       'operator', 'ministry', 'canteen')),
    institution_id INTEGER REFERENCES institutions(id),
    UNIQUE (account_id, role, institution_id)
);
INSERT INTO role_grants_new (account_id, role, institution_id)
    SELECT account_id, role, institution_id FROM role_grants;
DROP TABLE role_grants;
ALTER TABLE role_grants_new RENAME TO role_grants;
CREATE INDEX role_grants_by_institution ON role_grants(institution_id, role);
