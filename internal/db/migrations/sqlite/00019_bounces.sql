-- +goose NO TRANSACTION
-- +goose Up
-- What comes back after a message was sent: bounces (hard, soft), delays
-- and complaints, each tied to the delivery that caused it by a signed
-- reference, recorded once per (source, event_id). A bounce moves its
-- delivery from sent to bounced; a complaint marks it (complained_at).
--
-- SQLite changes a CHECK only by building the table again; with foreign
-- keys off, so that dropping the old table does not cascade (one
-- connection runs every statement: herald's pool of one).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE deliveries_new (
    id              INTEGER PRIMARY KEY,
    announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    chunk           INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'bounced')),
    reason          TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    claims          INTEGER NOT NULL DEFAULT 0,
    throttles       INTEGER NOT NULL DEFAULT 0,
    complained_at   TIMESTAMP,
    UNIQUE (announcement_id, email)
);
INSERT INTO deliveries_new (id, announcement_id, email, chunk, status, reason, attempts, next_attempt_at, lease_until, last_error, message_id, sent_at, created_at, updated_at, claims, throttles)
SELECT id, announcement_id, email, chunk, status, reason, attempts, next_attempt_at, lease_until, last_error, message_id, sent_at, created_at, updated_at, claims, throttles FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_announcement_status ON deliveries (announcement_id, status);
CREATE INDEX deliveries_email ON deliveries (email, id);
CREATE INDEX deliveries_due ON deliveries (announcement_id, chunk, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'sending';

CREATE TABLE delivery_events (
    id              INTEGER PRIMARY KEY,
    delivery_id     INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    announcement_id INTEGER NOT NULL,
    email           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'delay', 'complaint')),
    code            TEXT NOT NULL DEFAULT '',
    diagnostic      TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    occurred_at     TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (source, event_id)
);
CREATE INDEX delivery_events_delivery ON delivery_events (delivery_id, id);
-- Soft bounces to an address in the last 30 days.
CREATE INDEX delivery_events_email ON delivery_events (email, kind, occurred_at);

-- The guard rails read these instead of counting an announcement's
-- deliveries at each event: its hard bounces and complaints so far, and
-- how many messages it had sent when its rates were last found under the
-- limits (they cannot pass them before these counters do).
ALTER TABLE announcements ADD COLUMN hard_bounces INTEGER NOT NULL DEFAULT 0;
ALTER TABLE announcements ADD COLUMN complaints INTEGER NOT NULL DEFAULT 0;
ALTER TABLE announcements ADD COLUMN guard_sent INTEGER NOT NULL DEFAULT 0;
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;
BEGIN;
ALTER TABLE announcements DROP COLUMN guard_sent;
ALTER TABLE announcements DROP COLUMN complaints;
ALTER TABLE announcements DROP COLUMN hard_bounces;
DROP TABLE delivery_events;
CREATE TABLE deliveries_old (
    id              INTEGER PRIMARY KEY,
    announcement_id INTEGER NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    chunk           INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled')),
    reason          TEXT NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP,
    last_error      TEXT NOT NULL DEFAULT '',
    message_id      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    claims          INTEGER NOT NULL DEFAULT 0,
    throttles       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (announcement_id, email)
);
INSERT INTO deliveries_old (id, announcement_id, email, chunk, status, reason, attempts, next_attempt_at, lease_until, last_error, message_id, sent_at, created_at, updated_at, claims, throttles)
SELECT id, announcement_id, email, chunk, CASE WHEN status = 'bounced' THEN 'sent' ELSE status END, reason, attempts, next_attempt_at, lease_until, last_error, message_id, sent_at, created_at, updated_at, claims, throttles FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_old RENAME TO deliveries;
CREATE INDEX deliveries_announcement_status ON deliveries (announcement_id, status);
CREATE INDEX deliveries_email ON deliveries (email, id);
CREATE INDEX deliveries_due ON deliveries (announcement_id, chunk, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'sending';
COMMIT;
PRAGMA foreign_keys = ON;
