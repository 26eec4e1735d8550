-- +goose Up
-- An announcement may be paused: by the relay when it fails as a whole
-- (it resumes by itself), or by hand. paused_from is the status it
-- resumes to. The kind is no longer checked here: the kinds are herald's
-- registry's, and a new one needs no migration.
ALTER TABLE announcements DROP CONSTRAINT announcements_kind_check;
ALTER TABLE announcements DROP CONSTRAINT announcements_status_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_status_check
    CHECK (status IN ('scheduled', 'resolving', 'sending', 'paused', 'done', 'cancelled'));
ALTER TABLE announcements ADD COLUMN paused_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE announcements ADD COLUMN paused_by TEXT NOT NULL DEFAULT '';
ALTER TABLE announcements ADD COLUMN paused_from TEXT NOT NULL DEFAULT '';

-- +goose Down
UPDATE announcements SET status = paused_from WHERE status = 'paused';
ALTER TABLE announcements DROP COLUMN paused_from;
ALTER TABLE announcements DROP COLUMN paused_by;
ALTER TABLE announcements DROP COLUMN paused_reason;
ALTER TABLE announcements DROP CONSTRAINT announcements_status_check;
ALTER TABLE announcements ADD CONSTRAINT announcements_status_check
    CHECK (status IN ('scheduled', 'resolving', 'sending', 'done', 'cancelled'));
ALTER TABLE announcements ADD CONSTRAINT announcements_kind_check
    CHECK (kind IN ('release', 'invoice_reminder', 'broadcast'));
