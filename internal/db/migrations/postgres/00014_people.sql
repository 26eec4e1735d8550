-- +goose Up
-- A person's delivery history (GET /api/v1/contacts/{email}/deliveries)
-- reads the deliveries to one address, newest first; without this index
-- it scans the whole ledger.
CREATE INDEX deliveries_email ON deliveries (email, id);

-- The audit log covers more than memberships now: API tokens made and
-- revoked, suppressions lifted and people erased. Those entries name no
-- license and no role (both empty); a token's entries name it in
-- token_name.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('added', 'removed', 'promoted',
    'token_created', 'token_revoked', 'suppression_lifted', 'erased'));
ALTER TABLE audit_log DROP CONSTRAINT audit_log_role_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_role_check CHECK (role IN ('technical', 'billing', ''));
ALTER TABLE audit_log ADD COLUMN token_name TEXT NOT NULL DEFAULT '';

-- +goose Down
DELETE FROM audit_log WHERE action NOT IN ('added', 'removed', 'promoted');
ALTER TABLE audit_log DROP COLUMN token_name;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_role_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_role_check CHECK (role IN ('technical', 'billing'));
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('added', 'removed', 'promoted'));
DROP INDEX deliveries_email;
