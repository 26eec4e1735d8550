package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
)

// ClaimAll takes the deliveries ids that are still pending for sending
// until lease runs out, counting an attempt on each, with one statement:
// a send task claims its batch at once instead of one commit a message.
// It returns the claims it got, keyed by delivery; a delivery no longer
// pending (sent, cancelled, taken by another worker) or whose announcement
// no longer sends is left out.
func (l *Ledger) ClaimAll(ctx context.Context, ids []int64, lease time.Duration) (map[int64]Claim, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	now := l.Now()
	query, args, err := db.In(`
		UPDATE deliveries SET status = ?, attempts = attempts + 1, claims = claims + 1, lease_until = ?, updated_at = ?
		WHERE id IN (?) AND status = ?
		AND EXISTS (SELECT 1 FROM announcements a WHERE a.id = deliveries.announcement_id AND a.status = ?)
		RETURNING id, attempts, claims, throttles`, DeliverySending, now.Add(lease), now, ids, DeliveryPending, Sending)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		ID int64 `db:"id"`
		Claim
	}
	// A claim lost with the database server is pending again: the message
	// it covered, if out, was in flight, and the outcome's durable commit
	// makes the claim durable with it.
	err = l.db.InTxAsyncCommit(ctx, func(tx *sqlx.Tx) error {
		rows = rows[:0]
		return db.Select(ctx, tx, &rows, query, args...)
	})
	if err != nil {
		return nil, fmt.Errorf("claim %d deliveries: %w", len(ids), err)
	}
	claims := make(map[int64]Claim, len(rows))
	for _, r := range rows {
		c := r.Claim
		c.Delivery = r.ID
		claims[r.ID] = c
	}
	return claims, nil
}

// ExtendLeases keeps the claims cs alive, with one statement: the claims
// of a batch whose messages wait for the shared rate or a connection.
// Claims taken over since (their lease ran out) are left alone.
func (l *Ledger) ExtendLeases(ctx context.Context, cs []Claim, lease time.Duration) error {
	if len(cs) == 0 {
		return nil
	}
	values, args := claimValues(cs)
	args = append([]any{l.Now().Add(lease)}, args...)
	args = append(args, DeliverySending)
	_, err := db.Exec(ctx, l.db, `
		UPDATE deliveries SET lease_until = ?
		FROM (VALUES `+values+`) AS c
		WHERE deliveries.id = c.column1 AND deliveries.claims = c.column2 AND deliveries.attempts = c.column3
		AND deliveries.status = ?`, args...)
	if err != nil {
		return fmt.Errorf("extend the leases of %d deliveries: %w", len(cs), err)
	}
	return nil
}

// claimValues is the rows of a VALUES list (id, fence, attempt) of cs and
// their arguments. The casts type the columns on PostgreSQL, which would
// otherwise read the parameters as text; SQLite takes them as they are.
func claimValues(cs []Claim) (string, []any) {
	return valuesOf(cs, `(CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER))`, func(c Claim) []any {
		return []any{c.Delivery, c.Fence, c.Attempt}
	})
}

// valuesOf writes one row of a VALUES list per item, as row says, and
// collects their arguments.
func valuesOf[T any](items []T, row string, args func(T) []any) (string, []any) {
	var (
		b   []byte
		all []any
	)
	for i, it := range items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, row...)
		all = append(all, args(it)...)
	}
	return string(b), all
}

// GiveBack ends claims cs untried, their attempts not counted, with one
// statement: the rest of a batch whose task stops (shutdown, the relay
// fails) or whose announcement was paused or cancelled meanwhile. A
// delivery of a cancelled announcement is cancelled, as the cancel did to
// the pending ones; any other is pending again, due now.
func (l *Ledger) GiveBack(ctx context.Context, cs []Claim) error {
	if len(cs) == 0 {
		return nil
	}
	values, args := claimValues(cs)
	now := l.Now()
	cancelled := `EXISTS (SELECT 1 FROM announcements a WHERE a.id = deliveries.announcement_id AND a.status = '` + string(Cancelled) + `')`
	args = append([]any{DeliveryCancelled, DeliveryPending, now, now}, args...)
	args = append(args, DeliverySending)
	_, err := db.Exec(ctx, l.db, `
		UPDATE deliveries SET
			status = CASE WHEN `+cancelled+` THEN ? ELSE ? END,
			reason = CASE WHEN `+cancelled+` THEN 'announcement cancelled' ELSE reason END,
			attempts = attempts - 1, next_attempt_at = ?, lease_until = NULL, updated_at = ?
		FROM (VALUES `+values+`) AS c
		WHERE deliveries.id = c.column1 AND deliveries.claims = c.column2 AND deliveries.attempts = c.column3
		AND deliveries.status = ?`, args...)
	if err != nil {
		return fmt.Errorf("give back %d deliveries: %w", len(cs), err)
	}
	return nil
}

// StatusOf returns an announcement's status alone: a send task asks it
// often, to stop when staff pause or cancel.
func (l *Ledger) StatusOf(ctx context.Context, id int64) (Status, error) {
	var s Status
	if err := db.Get(ctx, l.db.Read, &s, `SELECT status FROM announcements WHERE id = ?`, id); err != nil {
		return "", fmt.Errorf("status of announcement %d: %w", id, err)
	}
	return s, nil
}
