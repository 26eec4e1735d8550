-- +goose Up
-- A fan-out inserts an announcement's deliveries in two steps: a first
-- page, sent at once, then the rest of the audience. fanout_pending is
-- set between the two: the announcement is not done while it is, and the
-- reconciler carries on a fan-out that stopped after its first page.
ALTER TABLE announcements ADD COLUMN fanout_pending BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE announcements DROP COLUMN fanout_pending;
