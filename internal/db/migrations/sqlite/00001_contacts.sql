-- +goose Up
CREATE TABLE licenses (
    id         TEXT PRIMARY KEY,
    product    TEXT NOT NULL,
    name       TEXT NOT NULL,
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'cancelled')),
    timezone   TEXT NOT NULL DEFAULT 'UTC',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX licenses_product_status ON licenses (product, status);

CREATE TABLE contacts (
    email             TEXT PRIMARY KEY CHECK (email = lower(email)),
    name              TEXT NOT NULL DEFAULT '',
    locale            TEXT NOT NULL DEFAULT 'en',
    release_opt_out   BOOLEAN NOT NULL DEFAULT FALSE,
    suppressed_at     TIMESTAMP,
    suppressed_reason TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    license_id TEXT NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    email      TEXT NOT NULL REFERENCES contacts (email),
    role       TEXT NOT NULL CHECK (role IN ('technical', 'billing')),
    is_main    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (license_id, role, email)
);
-- At most one main contact per license and role, whatever the application does.
CREATE UNIQUE INDEX memberships_one_main ON memberships (license_id, role) WHERE is_main;
CREATE INDEX memberships_email ON memberships (email);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE contacts;
DROP TABLE licenses;
