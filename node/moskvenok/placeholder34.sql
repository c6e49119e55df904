-- A placeholder for migration 34 (passage.sql, built on another branch at the same time), so
-- that this branch's migration 35 (topups.sql) has no gap before it. Nothing in it: at the
-- merge it gives way to passage.sql and this file goes.
SELECT 1;
