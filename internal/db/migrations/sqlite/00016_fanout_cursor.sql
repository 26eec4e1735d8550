-- +goose Up
-- A fan-out inserts an announcement's deliveries a page at a time, in
-- address order, so that the first messages leave while the rest of a
-- large audience is still being inserted. fanout_after is the last address
-- inserted while pages remain; NULL once the audience is all in (and for
-- every announcement made before this). An announcement is not done while
-- it is set, and the reconciler carries on a fan-out that stopped.
ALTER TABLE announcements ADD COLUMN fanout_after TEXT;

-- +goose Down
ALTER TABLE announcements DROP COLUMN fanout_after;
