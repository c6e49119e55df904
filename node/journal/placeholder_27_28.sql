-- Placeholder for migrations 27 and 28 (given to other branches of issue 16), so that this
-- branch's migration 29 applies on its own: the registry refuses gaps. Drop this file and its
-- two registrations in node/journal/subsystem.c when those branches' migrations are merged.
SELECT 1;
