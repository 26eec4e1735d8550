-- +goose Up
-- throttles counts the throttling replies a delivery got: a throttled try
-- is given back uncounted, and this is what keeps a relay that throttles
-- one message forever from retrying it forever.
ALTER TABLE deliveries ADD COLUMN throttles INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN throttles;
