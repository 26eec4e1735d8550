-- +goose Up
-- A send task reads the due deliveries of its chunk (announcement, chunk,
-- status pending, next_attempt_at <= now) many times. With the time in the
-- index, the read stops at the first delivery not yet due, and SQLite
-- without statistics no longer prefers deliveries_status_due, which made
-- each read walk every pending delivery of every announcement.
DROP INDEX deliveries_chunk;
CREATE INDEX deliveries_chunk ON deliveries (announcement_id, chunk, status, next_attempt_at);

-- +goose Down
DROP INDEX deliveries_chunk;
CREATE INDEX deliveries_chunk ON deliveries (announcement_id, chunk, status);
