package ledger

import (
	"context"
	"fmt"
	"sync"

	"github.com/heraldhq/herald/internal/db"
)

// Outcomes records that messages were sent in group commits: each Sent
// waits until its row is durable, and the rows of every Sent that arrives
// while a group is being written are written together next, with one
// statement. One commit a message was the ceiling of the send rate (a few
// milliseconds a commit on PostgreSQL, and SQLite's one writer shared by
// every worker).
//
// There is no goroutine of its own and no timer: the caller that finds no
// group being written leads, writing what waits until nothing does, while
// the others wait for their rows. A group is as large as what arrived
// during the previous write (up to maxRows): the slower the database's
// commit, the larger the groups, with no wait added when it is fast.
type Outcomes struct {
	l       *Ledger
	maxRows int

	mu      sync.Mutex
	waiting []*sentRow
	leading bool
}

type sentRow struct {
	claim     Claim
	messageID string
	done      chan error
}

// NewOutcomes returns a group writer of sent outcomes that writes at most
// maxRows rows at a time.
func (l *Ledger) NewOutcomes(maxRows int) *Outcomes {
	return &Outcomes{l: l, maxRows: max(maxRows, 1)}
}

// Sent records that the SMTP server accepted claim c's message, as
// MarkSent does, and returns once the row is written.
func (o *Outcomes) Sent(ctx context.Context, c Claim, messageID string) error {
	r := &sentRow{claim: c, messageID: messageID, done: make(chan error, 1)}
	o.mu.Lock()
	o.waiting = append(o.waiting, r)
	lead := !o.leading
	o.leading = true
	o.mu.Unlock()
	if lead {
		o.lead(ctx)
	}
	return <-r.done
}

// lead writes what waits until nothing does.
func (o *Outcomes) lead(ctx context.Context) {
	// The rows are out at the SMTP server: a caller that stops waiting
	// must not stop their write.
	ctx = context.WithoutCancel(ctx)
	for {
		o.mu.Lock()
		if len(o.waiting) == 0 {
			o.waiting = nil
			o.leading = false
			o.mu.Unlock()
			return
		}
		n := min(len(o.waiting), o.maxRows)
		rows := o.waiting[:n:n]
		o.waiting = o.waiting[n:]
		o.mu.Unlock()

		err := o.write(ctx, rows)
		for _, r := range rows {
			r.done <- err
		}
	}
}

// write records rows as sent with one statement. Like MarkSent, it also
// records a row whose lease ran out meanwhile and that nobody claimed
// since, or that a cancel reached: the message is out.
func (o *Outcomes) write(ctx context.Context, rows []*sentRow) error {
	if len(rows) == 0 {
		return nil
	}
	values, args := valuesOf(rows, `(CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS TEXT))`, func(r *sentRow) []any {
		return []any{r.claim.Delivery, r.claim.Fence, r.claim.Attempt, r.messageID}
	})
	now := o.l.Now()
	args = append([]any{DeliverySent, now, now}, args...)
	args = append(args, DeliverySending, DeliveryPending, DeliveryCancelled)
	_, err := db.Exec(ctx, o.l.db, `
		UPDATE deliveries SET status = ?, message_id = s.column4, sent_at = ?, reason = '', last_error = '', lease_until = NULL, updated_at = ?
		FROM (VALUES `+values+`) AS s
		WHERE deliveries.id = s.column1 AND deliveries.claims = s.column2 AND deliveries.attempts = s.column3
		AND deliveries.status IN (?, ?, ?)`, args...)
	if err != nil {
		return fmt.Errorf("record %d messages sent: %w", len(rows), err)
	}
	return nil
}
