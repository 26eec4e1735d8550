-- +goose Up
-- Mailgun signs a webhook's timestamp and token, not its body: a token
-- seen once is refused the second time within the timestamp window, so a
-- signature taken from one request cannot carry another body. Rows older
-- than the window are pruned as new ones come.
CREATE TABLE webhook_tokens (
    source  TEXT NOT NULL,
    token   TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source, token)
);
CREATE INDEX webhook_tokens_seen ON webhook_tokens (seen_at);

-- An SNS subscription confirmation for HERALD_SES_TOPIC_ARN, kept until
-- staff confirm it (herald never follows a SubscribeURL by itself).
-- message_id is SNS's: the same confirmation delivered twice is one row.
CREATE TABLE ses_subscriptions (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    TEXT NOT NULL UNIQUE,
    topic_arn     TEXT NOT NULL,
    subscribe_url TEXT NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    confirmed_at  TIMESTAMPTZ,
    confirmed_by  TEXT NOT NULL DEFAULT ''
);

-- Confirming one is audited.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('added', 'removed', 'promoted',
    'token_created', 'token_revoked', 'suppression_lifted', 'erased',
    'license_updated', 'staff_added', 'staff_role_changed', 'staff_removed',
    'announcement_created', 'announcement_paused', 'announcement_resumed',
    'announcement_cancelled', 'announcement_retried', 'job_run',
    'ses_subscription_confirmed'));

-- +goose Down
DELETE FROM audit_log WHERE action = 'ses_subscription_confirmed';
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check CHECK (action IN ('added', 'removed', 'promoted',
    'token_created', 'token_revoked', 'suppression_lifted', 'erased',
    'license_updated', 'staff_added', 'staff_role_changed', 'staff_removed',
    'announcement_created', 'announcement_paused', 'announcement_resumed',
    'announcement_cancelled', 'announcement_retried', 'job_run'));
DROP TABLE ses_subscriptions;
DROP TABLE webhook_tokens;
