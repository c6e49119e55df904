-- A report the hub refused for good (migration 38): 400 (not a report, a bad signature, a
-- malformed section) or 409 (other content under its sequence). It was tried again and again,
-- and every later report waited behind it. It is kept, with the hub's answer in last_error,
-- and never sent again; the reports after it go on.
ALTER TABLE fed_outbox ADD COLUMN refused_at INTEGER;
