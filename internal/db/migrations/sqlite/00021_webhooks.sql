-- +goose Up
-- Mailgun signs a webhook's timestamp and token, not its body: a token
-- seen once is refused the second time within the timestamp window, so a
-- signature taken from one request cannot carry another body. Rows older
-- than the window are pruned as new ones come.
CREATE TABLE webhook_tokens (
    source  TEXT NOT NULL,
    token   TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    PRIMARY KEY (source, token)
);
CREATE INDEX webhook_tokens_seen ON webhook_tokens (seen_at);

-- An SNS subscription confirmation for HERALD_SES_TOPIC_ARN, kept until
-- staff confirm it (herald never follows a SubscribeURL by itself).
-- message_id is SNS's: the same confirmation delivered twice is one row.
CREATE TABLE ses_subscriptions (
    id            INTEGER PRIMARY KEY,
    message_id    TEXT NOT NULL UNIQUE,
    topic_arn     TEXT NOT NULL,
    subscribe_url TEXT NOT NULL,
    received_at   TIMESTAMP NOT NULL,
    confirmed_at  TIMESTAMP,
    confirmed_by  TEXT NOT NULL DEFAULT ''
);

-- Confirming one is audited. SQLite cannot change a CHECK in place: the
-- table is rebuilt.
CREATE TABLE audit_log_new (
    id            INTEGER PRIMARY KEY,
    license_id    TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('added', 'removed', 'promoted',
                      'token_created', 'token_revoked', 'suppression_lifted', 'erased',
                      'license_updated', 'staff_added', 'staff_role_changed', 'staff_removed',
                      'announcement_created', 'announcement_paused', 'announcement_resumed',
                      'announcement_cancelled', 'announcement_retried', 'job_run',
                      'ses_subscription_confirmed')),
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
INSERT INTO audit_log_new SELECT id, license_id, action, email, role, is_main, previous_main, via, actor, created_at, token_name, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_license ON audit_log (license_id, id);
CREATE INDEX audit_log_email ON audit_log (email, id);

-- +goose Down
DELETE FROM audit_log WHERE action = 'ses_subscription_confirmed';
CREATE TABLE audit_log_old (
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
INSERT INTO audit_log_old SELECT id, license_id, action, email, role, is_main, previous_main, via, actor, created_at, token_name, detail FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_old RENAME TO audit_log;
CREATE INDEX audit_log_license ON audit_log (license_id, id);
CREATE INDEX audit_log_email ON audit_log (email, id);
DROP TABLE ses_subscriptions;
DROP TABLE webhook_tokens;
