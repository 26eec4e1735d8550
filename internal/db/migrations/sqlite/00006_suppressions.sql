-- +goose Up
-- Every suppression of an address and its lift: the SMTP reply that caused
-- it, the reply's code and enhanced code, and the delivery it answered (no
-- foreign key: retention deletes deliveries); once lifted, when and by whom.
-- contacts.suppressed_at and suppressed_reason still say whether an address
-- is suppressed now, as the audience queries read them; at most one row per
-- address is current (not lifted), and it gives the details.
CREATE TABLE suppressions (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL REFERENCES contacts (email) ON DELETE CASCADE,
    reply       TEXT NOT NULL DEFAULT '',
    code        INTEGER NOT NULL DEFAULT 0,
    enhanced    TEXT NOT NULL DEFAULT '',
    delivery_id BIGINT,
    created_at  TIMESTAMP NOT NULL,
    lifted_at   TIMESTAMP,
    lifted_by   TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX suppressions_current ON suppressions (email) WHERE lifted_at IS NULL;
CREATE INDEX suppressions_email ON suppressions (email, id);
-- GET /suppressions reads the suppressed contacts, few among many.
CREATE INDEX contacts_suppressed ON contacts (email) WHERE suppressed_at IS NOT NULL;

-- Suppressions made before this table knew no code and no delivery.
INSERT INTO suppressions (email, reply, created_at)
SELECT email, suppressed_reason, suppressed_at FROM contacts WHERE suppressed_at IS NOT NULL ORDER BY suppressed_at, email;

-- +goose Down
DROP INDEX contacts_suppressed;
DROP TABLE suppressions;
