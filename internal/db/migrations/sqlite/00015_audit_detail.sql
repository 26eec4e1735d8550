-- +goose Up
-- The audit log covers every change staff make, not only to contacts:
-- a license's name, status or timezone, the staff and their roles,
-- announcements created, paused, resumed, cancelled or retried, and jobs
-- run by hand. detail says what changed, in words ("status: active →
-- cancelled", "role: viewer → editor", "announcement 12: Maintenance").
-- SQLite cannot change a CHECK in place: the table is rebuilt.
CREATE TABLE audit_log_new (
    id            INTEGER PRIMARY KEY,
    license_id    TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('added', 'removed', 'promoted',
                      'token_created', 'token_revoked', 'suppression_lifted', 'erased',
                      'license_updated', 'staff_added', 'staff_role_changed', 'staff_removed',
                      'announcement_created', 'announcement_paused', 'announcement_resumed',
                      'announcement_cancelled', 'announcement_retried', 'job_run')),
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('technical', 'billing', '')),
    is_main       BOOLEAN NOT NULL DEFAULT FALSE,
    previous_main TEXT NOT NULL DEFAULT '',
    via           TEXT NOT NULL CHECK (via IN ('portal', 'api', 'csv', 'cli', 'console')),
    actor         TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    token_name    TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_log_new (id, license_id, action, email, role, is_main, previous_main, via, actor, created_at, token_name)
    SELECT id, license_id, action, email, role, is_main, previous_main, via, actor, created_at, token_name FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_license ON audit_log (license_id, id);
CREATE INDEX audit_log_email ON audit_log (email, id);

-- +goose Down
DELETE FROM audit_log WHERE action NOT IN ('added', 'removed', 'promoted',
    'token_created', 'token_revoked', 'suppression_lifted', 'erased');
CREATE TABLE audit_log_old (
    id            INTEGER PRIMARY KEY,
    license_id    TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('added', 'removed', 'promoted',
                      'token_created', 'token_revoked', 'suppression_lifted', 'erased')),
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('technical', 'billing', '')),
    is_main       BOOLEAN NOT NULL DEFAULT FALSE,
    previous_main TEXT NOT NULL DEFAULT '',
    via           TEXT NOT NULL CHECK (via IN ('portal', 'api', 'csv', 'cli', 'console')),
    actor         TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    token_name    TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_log_old SELECT id, license_id, action, email, role, is_main, previous_main, via, actor, created_at, token_name FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_old RENAME TO audit_log;
CREATE INDEX audit_log_license ON audit_log (license_id, id);
CREATE INDEX audit_log_email ON audit_log (email, id);
