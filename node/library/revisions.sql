-- Revisions of approved items. Schema version 12. node/library/library.c holds the workflow.
-- An author changes an approved item through a draft that names it (revision_of): the draft
-- is edited, submitted and reviewed like any other; approved, its content replaces the item's
-- in one transaction (same id and uid, version + 1) and the draft goes, so the lessons,
-- homework and favourites that name the item see the new version, and readers never see a
-- half-changed item. Rejected, it returns to its author while the approved version stays.
ALTER TABLE library_items ADD COLUMN revision_of INTEGER REFERENCES library_items(id)
    ON DELETE CASCADE;
-- One open revision per item.
CREATE UNIQUE INDEX library_items_one_revision ON library_items(revision_of)
    WHERE revision_of IS NOT NULL;
