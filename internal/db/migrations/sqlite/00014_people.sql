-- +goose Up
-- A person's delivery history (GET /api/v1/contacts/{email}/deliveries)
-- reads the deliveries to one address, newest first; without this index
-- it scans the whole ledger.
CREATE INDEX deliveries_email ON deliveries (email, id);

-- The audit log covers more than memberships now: API tokens made and
-- revoked, suppressions lifted and people erased. Those entries name no
-- license and no role (both empty); a token's entries name it in
-- token_name. SQLite cannot change a CHECK in place: the table is rebuilt.
CREATE TABLE audit_log_new (
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
INSERT INTO audit_log_new (id, license_id, action, email, role, is_main, previous_main, via, actor, created_at)
    SELECT id, license_id, action, email, role, is_main, previous_main, via, actor, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_license ON audit_log (license_id, id);
CREATE INDEX audit_log_email ON audit_log (email, id);

-- +goose Down
DELETE FROM audit_log WHERE action NOT IN ('added', 'removed', 'promoted');
CREATE TABLE audit_log_old (
    id            INTEGER PRIMARY KEY,
    license_id    TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('added', 'removed', 'promoted')),
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('technical', 'billing')),
    is_main       BOOLEAN NOT NULL DEFAULT FALSE,
    previous_main TEXT NOT NULL DEFAULT '',
    via           TEXT NOT NULL CHECK (via IN ('portal', 'api', 'csv', 'cli', 'console')),
    actor         TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
INSERT INTO audit_log_old SELECT id, license_id, action, email, role, is_main, previous_main, via, actor, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_old RENAME TO audit_log;
CREATE INDEX audit_log_license ON audit_log (license_id, id);
CREATE INDEX audit_log_email ON audit_log (email, id);
DROP INDEX deliveries_email;
