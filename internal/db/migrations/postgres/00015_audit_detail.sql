-- +goose Up
-- The audit log covers every change staff make, not only to contacts:
-- a license's name, status or timezone, the staff and their roles,
-- announcements created, paused, resumed, cancelled or retried, and jobs
-- run by hand. detail says what changed, in words ("status: active →
-- cancelled", "role: viewer → editor", "announcement 12: Maintenance").
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('added', 'removed', 'promoted',
    'token_created', 'token_revoked', 'suppression_lifted', 'erased',
    'license_updated', 'staff_added', 'staff_role_changed', 'staff_removed',
    'announcement_created', 'announcement_paused', 'announcement_resumed',
    'announcement_cancelled', 'announcement_retried', 'job_run'));
ALTER TABLE audit_log ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- +goose Down
DELETE FROM audit_log WHERE action NOT IN ('added', 'removed', 'promoted',
    'token_created', 'token_revoked', 'suppression_lifted', 'erased');
ALTER TABLE audit_log DROP COLUMN detail;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('added', 'removed', 'promoted',
    'token_created', 'token_revoked', 'suppression_lifted', 'erased'));
