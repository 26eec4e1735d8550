-- +goose Up
-- Staff of the console: who may sign in at /console, with what role
-- (viewer reads; editor changes; admin also manages staff), and the
-- timezone their times are shown and entered in.
CREATE TABLE staff (
    email      TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    timezone   TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- A sign-in link opens one realm: a contact's link of the portal never
-- signs anyone in to the console, whatever the address.
ALTER TABLE signin_links ADD COLUMN realm TEXT NOT NULL DEFAULT 'portal';

-- +goose Down
ALTER TABLE signin_links DROP COLUMN realm;
DROP TABLE staff;
