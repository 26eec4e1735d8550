-- +goose Up
-- Mail the inbound SMTP server took but could not parse or verify, kept
-- for staff to look at rather than dropped: its envelope, its size, why it
-- was kept, and the message itself (at most 5 MiB). The server keeps at
-- most 1,000 messages and none older than 30 days, pruning as it inserts.
CREATE TABLE inbound_kept (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TIMESTAMP NOT NULL,
    mail_from   TEXT NOT NULL,
    rcpt_to     TEXT NOT NULL,
    size        INTEGER NOT NULL,
    format      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    raw         BLOB NOT NULL
);
CREATE INDEX inbound_kept_received ON inbound_kept (received_at);

-- +goose Down
DROP TABLE inbound_kept;
