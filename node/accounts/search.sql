-- Administration at a region's size (migration 26). GET /api/v1/accounts without a school looks
-- up the start of a last name among a million persons (accounts.login has its own index); a
-- school's device tokens (GET /api/v1/devices) are found by their institution.
CREATE INDEX persons_by_name ON persons(last_name, first_name);
CREATE INDEX device_tokens_by_institution ON device_tokens(institution_id);
