-- +goose Up
-- Each delivery is written three times on its way (the fan-out inserts it,
-- a claim takes it, its outcome settles it), and a write that changes its
-- status adds an entry to every index of the table. Two indexes covered
-- every status although only unfinished deliveries are ever looked up by
-- them; they go, and what they served is served by partial indexes that a
-- sent delivery is in none of:
-- - a chunk's pending deliveries and their chunks in order: deliveries_due
--   (00017);
-- - claims whose lease ran out: deliveries_leased, below;
-- - the count of an announcement's deliveries by status, and whether it
--   has unfinished ones: deliveries_announcement_status (00002).
-- A claim now writes five index entries instead of seven, and an outcome
-- four instead of six.
DROP INDEX deliveries_chunk;
DROP INDEX deliveries_status_due;
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'sending';

-- +goose Down
DROP INDEX deliveries_leased;
CREATE INDEX deliveries_status_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_chunk ON deliveries (announcement_id, chunk, status);
