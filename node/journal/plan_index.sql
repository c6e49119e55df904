-- The thematic plan at a region's size (migration 29). A lesson names the plan topic it took
-- (lessons.plan_topic_id, ON DELETE SET NULL): removing topics from a plan (a plan that
-- shrinks, PUT /api/v1/plans) makes SQLite look for the lessons naming each one, which without
-- an index is a pass over every lesson of the region. Only lessons with a topic are indexed.
CREATE INDEX lessons_by_plan_topic ON lessons(plan_topic_id) WHERE plan_topic_id IS NOT NULL;
