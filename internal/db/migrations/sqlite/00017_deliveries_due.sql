-- +goose Up
-- A send task reads the due deliveries of its chunk many times: through
-- this index the read finds them directly. Without it, a database without
-- fresh statistics (right after a fan-out) read them through
-- (announcement_id, status) or (status, next_attempt_at) and walked every
-- pending delivery of the announcement for each batch. Partial, on pending
-- rows only: the claim and the outcome, which take a row out of pending,
-- add nothing to it.
CREATE INDEX deliveries_due ON deliveries (announcement_id, chunk, next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP INDEX deliveries_due;
