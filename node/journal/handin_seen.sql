-- When the teacher has seen a hand-in (migration 27). The teacher's hand-ins page marks the
-- hand-ins it shows as seen, and feedback does too; a student may withdraw a hand-in (its
-- answer and files) only while it is unseen. seen_at is the last time the teacher looked:
-- a hand-in changed after it (updated_at > seen_at) is new to the teacher again, yet stays
-- seen for the withdrawal rule.
ALTER TABLE homework_submissions ADD COLUMN seen_at INTEGER;
