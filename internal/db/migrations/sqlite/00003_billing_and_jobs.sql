-- +goose Up
CREATE TABLE invoices (
    number       TEXT PRIMARY KEY,
    license_id   TEXT NOT NULL REFERENCES licenses (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency     TEXT NOT NULL,
    due_date     TEXT NOT NULL, -- YYYY-MM-DD, a date in the license's timezone
    status       TEXT NOT NULL CHECK (status IN ('open', 'paid', 'void')),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX invoices_status_due ON invoices (status, due_date);
CREATE INDEX invoices_license ON invoices (license_id);

-- The last run of each scheduled job, shared by every scheduler replica.
CREATE TABLE job_runs (
    name        TEXT PRIMARY KEY,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    result      TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT ''
);

-- Release feeds: a feed is known once it has been polled; its versions
-- are the ones seen, announced or (on the first poll) only recorded.
CREATE TABLE feeds (
    url             TEXT PRIMARY KEY,
    product         TEXT NOT NULL,
    first_polled_at TIMESTAMP NOT NULL
);
CREATE TABLE feed_versions (
    url     TEXT NOT NULL REFERENCES feeds (url) ON DELETE CASCADE,
    version TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (url, version)
);

-- Retention deletes the deliveries of old announcements and keeps their
-- final counts here.
ALTER TABLE announcements ADD COLUMN archived_counts TEXT;

-- What an announcement is about, to find it by that: an invoice's reminders
-- by the invoice's number.
ALTER TABLE announcements ADD COLUMN ref TEXT NOT NULL DEFAULT '';
CREATE INDEX announcements_kind_ref ON announcements (kind, ref);

-- +goose Down
DROP INDEX announcements_kind_ref;
ALTER TABLE announcements DROP COLUMN ref;
ALTER TABLE announcements DROP COLUMN archived_counts;
DROP TABLE feed_versions;
DROP TABLE feeds;
DROP TABLE job_runs;
DROP TABLE invoices;
