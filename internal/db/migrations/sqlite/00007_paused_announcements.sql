-- +goose NO TRANSACTION
-- +goose Up
-- An announcement may be paused: by the relay when it fails as a whole
-- (it resumes by itself), or by hand. paused_from is the status it
-- resumes to. The kind is no longer checked here: the kinds are herald's
-- registry's, and a new one needs no migration.
--
-- SQLite changes a CHECK only by building the table again; with foreign
-- keys off, so that dropping the old table does not cascade to its
-- deliveries (one connection runs every statement: herald's pool of one).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE announcements_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL UNIQUE,
    template        TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    params          TEXT NOT NULL DEFAULT '{}',
    audience        TEXT NOT NULL DEFAULT '{}',
    send_at         TIMESTAMP NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('scheduled', 'resolving', 'sending', 'paused', 'done', 'cancelled')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    archived_counts TEXT,
    ref             TEXT NOT NULL DEFAULT '',
    paused_reason   TEXT NOT NULL DEFAULT '',
    paused_by       TEXT NOT NULL DEFAULT '',
    paused_from     TEXT NOT NULL DEFAULT ''
);
INSERT INTO announcements_new (id, kind, dedupe_key, template, subject, params, audience, send_at, status,
    created_at, updated_at, finished_at, archived_counts, ref)
SELECT id, kind, dedupe_key, template, subject, params, audience, send_at, status,
    created_at, updated_at, finished_at, archived_counts, ref
FROM announcements;
DROP TABLE announcements;
ALTER TABLE announcements_new RENAME TO announcements;
CREATE INDEX announcements_status_send_at ON announcements (status, send_at);
CREATE INDEX announcements_kind_id ON announcements (kind, id);
CREATE INDEX announcements_kind_ref ON announcements (kind, ref);
COMMIT;
PRAGMA foreign_keys = ON;

-- +goose Down
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE announcements_old (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('release', 'invoice_reminder', 'broadcast')),
    dedupe_key      TEXT NOT NULL UNIQUE,
    template        TEXT NOT NULL,
    subject         TEXT NOT NULL DEFAULT '',
    params          TEXT NOT NULL DEFAULT '{}',
    audience        TEXT NOT NULL DEFAULT '{}',
    send_at         TIMESTAMP NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('scheduled', 'resolving', 'sending', 'done', 'cancelled')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    archived_counts TEXT,
    ref             TEXT NOT NULL DEFAULT ''
);
INSERT INTO announcements_old (id, kind, dedupe_key, template, subject, params, audience, send_at, status,
    created_at, updated_at, finished_at, archived_counts, ref)
SELECT id, kind, dedupe_key, template, subject, params, audience, send_at,
    CASE WHEN status = 'paused' THEN paused_from ELSE status END,
    created_at, updated_at, finished_at, archived_counts, ref
FROM announcements;
DROP TABLE announcements;
ALTER TABLE announcements_old RENAME TO announcements;
CREATE INDEX announcements_status_send_at ON announcements (status, send_at);
CREATE INDEX announcements_kind_id ON announcements (kind, id);
CREATE INDEX announcements_kind_ref ON announcements (kind, ref);
COMMIT;
PRAGMA foreign_keys = ON;
