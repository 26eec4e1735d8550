-- +goose Up
-- Sign-in links of the contacts portal: the link's token is only in the
-- mail; this keeps its SHA-256, whom it signs in, until when, and when it
-- was used (a link signs in once).
CREATE TABLE signin_links (
    hash       TEXT PRIMARY KEY,
    email      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX signin_links_expires ON signin_links (expires_at);

-- Sessions of the pages: the cookie's token is only in the browser; this
-- keeps its SHA-256, whose session it is (realm "portal": a contact,
-- by address), and when it was last used, for the idle timeout.
CREATE TABLE web_sessions (
    hash         TEXT PRIMARY KEY,
    realm        TEXT NOT NULL,
    subject      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_sessions_subject ON web_sessions (realm, subject);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen_at);

-- +goose Down
DROP TABLE web_sessions;
DROP TABLE signin_links;
