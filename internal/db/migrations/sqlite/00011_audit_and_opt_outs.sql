-- +goose Up
-- audit_log keeps every change to a license's contacts: who made it (via
-- the portal, an API token, a CSV import, the CLI), what it did to whom,
-- and when. It names the license by id without a foreign key, so that the
-- record of a license outlives the license.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    license_id    TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('added', 'removed', 'promoted')),
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('technical', 'billing')),
    -- is_main: whether email is the role's main contact after the change;
    -- previous_main: the main contact a promotion replaced.
    is_main       BOOLEAN NOT NULL DEFAULT FALSE,
    previous_main TEXT NOT NULL DEFAULT '',
    via           TEXT NOT NULL CHECK (via IN ('portal', 'api', 'csv', 'cli', 'console')),
    actor         TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_license ON audit_log (license_id, id);
CREATE INDEX audit_log_email ON audit_log (email, id);

-- Release notices and broadcasts are opted out of separately now; a
-- contact who had opted out of "announcements" stays out of both.
ALTER TABLE contacts ADD COLUMN broadcast_opt_out BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE contacts SET broadcast_opt_out = release_opt_out;

-- +goose Down
ALTER TABLE contacts DROP COLUMN broadcast_opt_out;
DROP TABLE audit_log;
