-- +goose Up
-- Values herald makes once and keeps, such as the key of unsubscribe links
-- when HERALD_SECRET is not set.
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE settings;
