-- +goose Up
-- What comes back after a message was sent: bounces (hard, soft), delays
-- and complaints, each tied to the delivery that caused it by a signed
-- reference, recorded once per (source, event_id). A bounce moves its
-- delivery from sent to bounced; a complaint marks it (complained_at).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled', 'bounced'));
ALTER TABLE deliveries ADD COLUMN complained_at TIMESTAMPTZ;

CREATE TABLE delivery_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id     BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    announcement_id BIGINT NOT NULL,
    email           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'delay', 'complaint')),
    code            TEXT NOT NULL DEFAULT '',
    diagnostic      TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
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

-- +goose Down
ALTER TABLE announcements DROP COLUMN guard_sent;
ALTER TABLE announcements DROP COLUMN complaints;
ALTER TABLE announcements DROP COLUMN hard_bounces;
DROP TABLE delivery_events;
ALTER TABLE deliveries DROP COLUMN complained_at;
UPDATE deliveries SET status = 'sent' WHERE status = 'bounced';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'cancelled'));
