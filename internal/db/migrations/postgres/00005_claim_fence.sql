-- +goose Up
-- Every claim of a delivery takes the next number of its fence, which is
-- never reset: a claim whose lease ran out can neither extend nor settle a
-- later one. attempts counts the tries of the retry budget, which
-- retry-failed starts again; before this column it also fenced claims, and
-- a retried delivery's new claims took numbers an old one could still hold.
ALTER TABLE deliveries ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET claims = attempts;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN claims;
