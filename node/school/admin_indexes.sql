-- A school's administration (migration 25): the indexes its lists need at a region's size.
-- enrollments_current and enrollments_by_class cover only current enrolments: a class's
-- enrolments past and present (GET /api/v1/classes/{id}/enrollments), a student's former
-- classes (the person search; a transferred student's old marks) need all of them.
CREATE INDEX enrollments_by_class_all ON enrollments(class_id, left_on);
CREATE INDEX enrollments_by_student_all ON enrollments(student_id, class_id);
-- A school's staff (GET /api/v1/institutions/{id}/staff): the primary key starts with the person.
CREATE INDEX staff_by_institution ON staff(institution_id);
