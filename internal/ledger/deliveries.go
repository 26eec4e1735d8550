package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/page"
)

// Audience is a query for the recipients of an announcement: it returns
// one row per address, with the column email. Suppressed addresses are
// always skipped; opted-out ones when OptOut names an opt-out (release
// notices and broadcasts each their own; invoice reminders and other
// transactional mail none).
type Audience struct {
	Query  string
	Args   []any
	OptOut OptOut
}

// OptOut is a kind of mail a contact can leave. It belongs to contacts,
// whose columns it names, so that a dry run's count and the fan-out skip
// the same people.
type OptOut = contacts.OptOut

const (
	NoOptOut        = contacts.NoOptOut
	ReleaseOptOut   = contacts.ReleaseOptOut
	BroadcastOptOut = contacts.BroadcastOptOut
)

// isPending and isSending match a delivery's status in a query with the
// status written in, not bound, so that both databases see that the
// partial indexes on pending (deliveries_due) and on sending
// (deliveries_leased) deliveries serve it: neither proves that a bound
// value matches an index's condition.
const (
	isPending = `status = '` + string(DeliveryPending) + `'`
	isSending = `status = '` + string(DeliverySending) + `'`
)

const deliveryColumns = `id, announcement_id, email, chunk, status, reason, attempts, next_attempt_at, last_error, message_id, sent_at, complained_at`

// The queries of the send path that read unfinished deliveries, each
// served by a partial index (TestSendPathQueriesUsePartialIndexes).
const (
	// dueQuery reads a chunk's due deliveries: announcement, chunk, now,
	// the announcement's status, limit.
	dueQuery = `
		SELECT ` + deliveryColumns + ` FROM deliveries
		WHERE announcement_id = ? AND chunk = ? AND ` + isPending + ` AND next_attempt_at <= ?
		AND EXISTS (SELECT 1 FROM announcements a WHERE a.id = deliveries.announcement_id AND a.status = ?)
		LIMIT ?`
	// nextAttemptQuery reads when a chunk's next delivery is due:
	// announcement, chunk, the announcement's status.
	nextAttemptQuery = `
		SELECT next_attempt_at FROM deliveries
		WHERE announcement_id = ? AND chunk = ? AND ` + isPending + `
		AND EXISTS (SELECT 1 FROM announcements a WHERE a.id = deliveries.announcement_id AND a.status = ?)
		ORDER BY next_attempt_at LIMIT 1`
	// pendingChunksQuery reads the chunks that hold pending deliveries:
	// announcement, first chunk.
	pendingChunksQuery = `
		SELECT DISTINCT chunk FROM deliveries WHERE announcement_id = ? AND chunk >= ? AND ` + isPending + ` ORDER BY chunk`
	// earliestOverdueQuery reads an announcement's first chunk with an
	// overdue delivery: announcement, the time before which it is.
	earliestOverdueQuery = `
		SELECT chunk FROM deliveries
		WHERE announcement_id = ? AND ` + isPending + ` AND next_attempt_at <= ?
		ORDER BY chunk LIMIT 1`
	// expireLeasesQuery makes the deliveries whose lease ran out pending
	// again: the new status, now (due), now (updated), now (lease end).
	expireLeasesQuery = `
		UPDATE deliveries SET status = ?, lease_until = NULL, next_attempt_at = ?, updated_at = ?
		WHERE ` + isSending + ` AND lease_until < ?
		RETURNING announcement_id, chunk`
)

// Due returns up to limit pending deliveries of a chunk whose time has
// come, while its announcement is sending (not paused or cancelled).
func (l *Ledger) Due(ctx context.Context, announcementID int64, chunk, limit int) ([]Delivery, error) {
	var ds []Delivery
	err := db.Select(ctx, l.db.Read, &ds, dueQuery, announcementID, chunk, l.Now(), Sending, limit)
	if err != nil {
		return nil, fmt.Errorf("due deliveries of %d/%d: %w", announcementID, chunk, err)
	}
	return ds, nil
}

// NextAttempt returns when the earliest pending delivery of a chunk is due,
// if any is pending and its announcement is sending: a paused one's work
// is enqueued again when it is resumed.
func (l *Ledger) NextAttempt(ctx context.Context, announcementID int64, chunk int) (time.Time, bool, error) {
	var next []time.Time
	err := db.Select(ctx, l.db.Read, &next, nextAttemptQuery, announcementID, chunk, Sending)
	if err != nil || len(next) == 0 {
		return time.Time{}, false, err
	}
	return next[0].UTC(), true, nil
}

// Claim is a delivery taken by one worker for sending. Attempt counts its
// tries toward the retry budget (retry-failed starts it again); Fence
// numbers every claim the delivery ever had, so that once a lease has run
// out and the delivery has been claimed again, the earlier claim can
// neither extend it nor record an outcome over the new owner's. A claim is
// matched on both: herald versions before the fence counted attempts only,
// and while they run beside this one during an upgrade, their claims leave
// the fence as it was.
type Claim struct {
	Delivery int64
	Attempt  int `db:"attempts"`
	Fence    int `db:"claims"`
	// Throttles is how many throttling replies the delivery got before.
	Throttles int `db:"throttles"`
}

// Claim takes a pending delivery for sending until lease runs out, counting
// the attempt. It reports false when the delivery is no longer pending
// (sent, cancelled or taken by another worker) or its announcement is no
// longer sending (cancelled).
func (l *Ledger) Claim(ctx context.Context, id int64, lease time.Duration) (Claim, bool, error) {
	now := l.Now()
	var claims []Claim
	err := db.Select(ctx, l.db, &claims, `
		UPDATE deliveries SET status = ?, attempts = attempts + 1, claims = claims + 1, lease_until = ?, updated_at = ?
		WHERE id = ? AND status = ?
		AND EXISTS (SELECT 1 FROM announcements a WHERE a.id = deliveries.announcement_id AND a.status = ?)
		RETURNING attempts, claims, throttles`, DeliverySending, now.Add(lease), now, id, DeliveryPending, Sending)
	if err != nil {
		return Claim{}, false, fmt.Errorf("claim delivery %d: %w", id, err)
	}
	if len(claims) == 0 {
		return Claim{}, false, nil
	}
	c := claims[0]
	c.Delivery = id
	return c, true, nil
}

// ExtendLease keeps a claim alive while its message is being sent.
func (l *Ledger) ExtendLease(ctx context.Context, c Claim, lease time.Duration) error {
	_, err := db.Exec(ctx, l.db, `UPDATE deliveries SET lease_until = ? WHERE id = ? AND status = ? AND claims = ? AND attempts = ?`,
		l.Now().Add(lease), c.Delivery, DeliverySending, c.Fence, c.Attempt)
	if err != nil {
		return fmt.Errorf("extend lease of delivery %d: %w", c.Delivery, err)
	}
	return nil
}

// MarkSent records that the SMTP server accepted the message. It records
// it too when the claim's lease ran out meanwhile (a stalled, not a dead,
// worker) and nobody claimed the delivery since: back to pending, or
// cancelled by a cancel that came in between. The message is out; it must
// be counted as sent and not be sent again.
func (l *Ledger) MarkSent(ctx context.Context, c Claim, messageID string) error {
	now := l.Now()
	_, err := db.Exec(ctx, l.db, `
		UPDATE deliveries SET status = ?, message_id = ?, sent_at = ?, reason = '', last_error = '', lease_until = NULL, updated_at = ?
		WHERE id = ? AND claims = ? AND attempts = ? AND status IN (?, ?, ?)`,
		DeliverySent, messageID, now, now, c.Delivery, c.Fence, c.Attempt, DeliverySending, DeliveryPending, DeliveryCancelled)
	if err != nil {
		return fmt.Errorf("record outcome of delivery %d: %w", c.Delivery, err)
	}
	return nil
}

// MarkRetry puts a claimed delivery back to pending until next, keeping the
// reason it failed this time.
func (l *Ledger) MarkRetry(ctx context.Context, c Claim, reason string, next time.Time) error {
	return l.settle(ctx, c, `status = ?, last_error = ?, next_attempt_at = ?`, DeliveryPending, reason, next.UTC().Truncate(time.Microsecond))
}

// MarkFailed records that a delivery will not be sent, and why.
func (l *Ledger) MarkFailed(ctx context.Context, c Claim, reason string) error {
	return l.settle(ctx, c, `status = ?, last_error = ?`, DeliveryFailed, reason)
}

// MarkSkipped records that a claimed delivery was not sent on purpose.
func (l *Ledger) MarkSkipped(ctx context.Context, c Claim, reason string) error {
	return l.settle(ctx, c, `status = ?, reason = ?`, DeliverySkipped, reason)
}

// settle ends a claim, if it is still the delivery's claim.
func (l *Ledger) settle(ctx context.Context, c Claim, set string, args ...any) error {
	args = append(args, l.Now(), c.Delivery, DeliverySending, c.Fence, c.Attempt)
	_, err := db.Exec(ctx, l.db, `UPDATE deliveries SET `+set+`, lease_until = NULL, updated_at = ? WHERE id = ? AND status = ? AND claims = ? AND attempts = ?`, args...)
	if err != nil {
		return fmt.Errorf("record outcome of delivery %d: %w", c.Delivery, err)
	}
	return nil
}

// DeliveryFilter selects the deliveries of an announcement; empty fields
// select everything.
type DeliveryFilter struct {
	Status DeliveryStatus
	// Email selects the delivery to one address, matched as contacts are
	// looked up (contacts.LookupEmail): exactly, with A-Z lowered.
	Email string
	Page  page.Request
}

// Deliveries lists the deliveries of an announcement in the order they were
// made.
func (l *Ledger) Deliveries(ctx context.Context, announcementID int64, f DeliveryFilter) (page.Page[Delivery], error) {
	limit, afterID, err := f.Page.DecodeID()
	if err != nil {
		return page.Page[Delivery]{}, err
	}
	if _, err := l.Lookup(ctx, announcementID); err != nil {
		return page.Page[Delivery]{}, err
	}
	query := `SELECT ` + deliveryColumns + ` FROM deliveries WHERE announcement_id = ? AND id > ?`
	args := []any{announcementID, afterID}
	if f.Status != "" {
		if err := checkDeliveryStatus(f.Status); err != nil {
			return page.Page[Delivery]{}, err
		}
		query += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.Email != "" {
		forms, err := contacts.LookupEmail("email", f.Email)
		if err != nil {
			return page.Page[Delivery]{}, err
		}
		in, inArgs, err := db.In(` AND email IN (?)`, forms)
		if err != nil {
			return page.Page[Delivery]{}, err
		}
		query += in
		args = append(args, inArgs...)
	}
	query += ` ORDER BY id LIMIT ?`
	args = append(args, limit+1)
	var ds []Delivery
	if err := db.Select(ctx, l.db.Read, &ds, query, args...); err != nil {
		return page.Page[Delivery]{}, fmt.Errorf("list deliveries of %d: %w", announcementID, err)
	}
	for i := range ds {
		ds[i].NextAttemptAt = ds[i].NextAttemptAt.UTC()
		ds[i].SentAt, ds[i].ComplainedAt = utcPtr(ds[i].SentAt), utcPtr(ds[i].ComplainedAt)
	}
	return page.OfID(ds, limit, func(d Delivery) int64 { return d.ID }), nil
}
