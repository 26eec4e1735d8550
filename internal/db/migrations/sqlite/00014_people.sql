-- +goose Up
-- A person's delivery history (GET /api/v1/contacts/{email}/deliveries)
-- reads the deliveries to one address, newest first; without this index
-- it scans the whole ledger.
CREATE INDEX deliveries_email ON deliveries (email, id);

-- +goose Down
DROP INDEX deliveries_email;
