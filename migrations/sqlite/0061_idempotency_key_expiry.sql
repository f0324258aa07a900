-- Idempotency keys expire (a day by default): an append takes a key used before its cutoff
-- as new, and the worker deletes the expired keys in batches, oldest first, by this index.
-- created_at is written by the store from the command's clock, in the same format as before.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
