-- The hub's items at a region (docs/federation.md, "The library channel"). Schema version 19.
-- A channel names each item by the hash of its document (a blob); an item of the hub keeps
-- the hash it came from, so that an unchanged item is recognised without reading it, and its
-- document stays stored while the item names it.
ALTER TABLE library_items ADD COLUMN hub_doc BLOB;
CREATE INDEX library_items_by_hub_doc ON library_items(hub_doc) WHERE hub_doc IS NOT NULL;
