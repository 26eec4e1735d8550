package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

// PersonDelivery is one delivery to a person with what it delivered: the
// answer to "why did X not get it?" reads a person's history across every
// announcement.
type PersonDelivery struct {
	Delivery
	Kind      Kind       `db:"kind"`
	Subject   string     `db:"subject"`
	CreatedAt time.Time  `db:"created_at"`
	UpdatedAt time.Time  `db:"updated_at"`
	Finished  *time.Time `db:"finished_at"` // the announcement's end
}

// PersonFilter selects the deliveries to one address; an empty Status
// selects every status.
type PersonFilter struct {
	// Email is matched as contacts are looked up (contacts.LookupEmail).
	Email  string
	Status DeliveryStatus
	Page   page.Request
}

// checkDeliveryStatus refuses a status filter that names no delivery status.
func checkDeliveryStatus(s DeliveryStatus) error {
	switch s {
	case "", DeliveryPending, DeliverySending, DeliverySent, DeliveryFailed, DeliverySkipped, DeliveryCancelled, DeliveryBounced:
		return nil
	}
	return fault.Invalid("status", "%q is not a delivery status (pending, sending, sent, failed, skipped, cancelled or bounced)", s)
}

// PersonDeliveries lists the deliveries to one address across every
// announcement, newest first. It reads the index on (email, id), so that
// the history of one person costs the same on a ledger of millions.
func (l *Ledger) PersonDeliveries(ctx context.Context, f PersonFilter) (page.Page[PersonDelivery], error) {
	limit, beforeID, err := f.Page.DecodeID()
	if err != nil {
		return page.Page[PersonDelivery]{}, err
	}
	if err := checkDeliveryStatus(f.Status); err != nil {
		return page.Page[PersonDelivery]{}, err
	}
	forms, err := contacts.LookupEmail("email", f.Email)
	if err != nil {
		return page.Page[PersonDelivery]{}, err
	}
	query, args, err := personQuery(forms, f.Status, beforeID, limit)
	if err != nil {
		return page.Page[PersonDelivery]{}, err
	}
	var ds []PersonDelivery
	if err := db.Select(ctx, l.db.Read, &ds, query, args...); err != nil {
		return page.Page[PersonDelivery]{}, fmt.Errorf("list deliveries to %s: %w", f.Email, err)
	}
	for i := range ds {
		d := &ds[i]
		d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		d.SentAt, d.ComplainedAt, d.Finished = utcPtr(d.SentAt), utcPtr(d.ComplainedAt), utcPtr(d.Finished)
	}
	return page.OfID(ds, limit, func(d PersonDelivery) int64 { return d.ID }), nil
}

// personQuery selects the deliveries to any of forms (the forms one
// address may be stored in) older than beforeID (0: the newest), newest
// first, limit+1 of them.
func personQuery(forms []string, status DeliveryStatus, beforeID int64, limit int) (string, []any, error) {
	query, args, err := db.In(`
		SELECT d.id, d.announcement_id, d.email, d.chunk, d.status, d.reason, d.attempts, d.next_attempt_at,
			d.last_error, d.message_id, d.sent_at, d.complained_at, d.created_at, d.updated_at,
			a.kind, a.subject, a.finished_at
		FROM deliveries d JOIN announcements a ON a.id = d.announcement_id
		WHERE d.email IN (?)`, forms)
	if err != nil {
		return "", nil, err
	}
	if beforeID != 0 {
		query += ` AND d.id < ?`
		args = append(args, beforeID)
	}
	if status != "" {
		query += ` AND d.status = ?`
		args = append(args, status)
	}
	query += ` ORDER BY d.id DESC LIMIT ?`
	args = append(args, limit+1)
	return query, args, nil
}

// HasDeliveries says whether any delivery was made to email, in any of the
// forms it may be stored in.
func (l *Ledger) HasDeliveries(ctx context.Context, email string) (bool, error) {
	forms, err := contacts.LookupEmail("email", email)
	if err != nil {
		return false, err
	}
	query, args, err := db.In(`SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE email IN (?) LIMIT 1) x`, forms)
	if err != nil {
		return false, err
	}
	var n int
	if err := db.Get(ctx, l.db.Read, &n, query, args...); err != nil {
		return false, fmt.Errorf("look for deliveries to %s: %w", email, err)
	}
	return n > 0, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
