-- +goose Up
-- HERALD_ADMIN_TOKEN is checked in memory now, and accepted exactly while
-- the variable holds it. Earlier versions stored it here under its name,
-- where it went on opening the API after the variable was removed, and on
-- every replica that never had it set: forget it.
DELETE FROM api_tokens WHERE name = 'HERALD_ADMIN_TOKEN';

-- +goose Down
-- Nothing to restore: the secret was never stored, only its hash, and an
-- older herald stores it again at start from the variable.
