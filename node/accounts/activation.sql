-- Activation codes (migration 22): the one-time codes of the letters that let a person whose
-- account has no password yet (accounts.password_hash NULL) choose one, and that a reset
-- issues again (accounts/activation.h). A code is kept only as a keyed BLAKE2b-256 of the
-- account's id and the code, under the node secret "activation_code" (node_secrets, made by
-- the first letters), so a copy of the database activates nobody. One live code per account:
-- a new one replaces it; using it deletes it.
CREATE TABLE activation_codes (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash   BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,                 -- created_at + auth.activation_days
    created_by  INTEGER REFERENCES accounts(id)   -- who printed or reset it
);
