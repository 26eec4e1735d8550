-- +goose Up
-- products gives products their display names ("Jira Software" for jira),
-- which messages use in place of the key. Rows are made only when a name is
-- given: licenses name their product by key alone, and a product without a
-- row is called by its key, so nothing is copied here for the products of
-- existing licenses (a name equal to the key would say nothing, and would
-- look like one staff had chosen).
CREATE TABLE products (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL CHECK (name <> ''),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE products;
