-- Medical notes: the school's medic records an illness for a date range; like a parent's
-- absence notice, it justifies the absences in the range. Both live in absence_notices.
-- Schema version 10.
ALTER TABLE absence_notices ADD COLUMN kind TEXT NOT NULL DEFAULT 'parent'
    CHECK (kind IN ('parent', 'medical'));
