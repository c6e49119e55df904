-- PLACEHOLDER, not a schema change: stands for migration 27, which another branch of issue 16
-- owns, so that this branch's migration 28 applies on its own (the registry refuses gaps).
-- Drop this file and its entry in node/journal/subsystem.c when merging with that branch.
SELECT 1;
