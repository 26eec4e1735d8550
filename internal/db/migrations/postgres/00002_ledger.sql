-- +goose Up
CREATE TABLE announcements (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('release', 'invoice_reminder', 'broadcast')),
    dedupe_key  TEXT NOT NULL UNIQUE,
    template    TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    params      TEXT NOT NULL DEFAULT '{}',
    audience    TEXT NOT NULL DEFAULT '{}',
    send_at     TIMESTAMPTZ NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('scheduled', 'resolving', 'sending', 'done', 'cancelled')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX announcements_status_send_at ON announcements (status, send_at);
CREATE INDEX announcements_kind_id ON announcements (kind, id);

CREATE TABLE deliveries (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    announcement_id BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    chunk           INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
    reason          TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_until     TIMESTAMPTZ,
    last_error      TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (announcement_id, email)
);
CREATE INDEX deliveries_chunk ON deliveries (announcement_id, chunk, status);
CREATE INDEX deliveries_status_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_announcement_status ON deliveries (announcement_id, status);

CREATE TABLE releases (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product         TEXT NOT NULL,
    version         TEXT NOT NULL,
    title           TEXT NOT NULL DEFAULT '',
    notes           TEXT NOT NULL DEFAULT '',
    url             TEXT NOT NULL DEFAULT '',
    announcement_id BIGINT NOT NULL REFERENCES announcements (id),
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (product, version)
);

-- +goose Down
DROP TABLE releases;
DROP TABLE deliveries;
DROP TABLE announcements;
