package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// The guard rails: an announcement whose complaints or hard bounces pass
// these shares of its messages, once it has sent GuardAfter of them, is
// paused for staff (PausedByGuardRails: it never resumes by itself). Mailbox
// providers ask bulk senders to keep complaints under 0.3%.
const (
	GuardAfter         = 1000
	GuardComplaintRate = 0.003
	GuardHardRate      = 0.05
)

// Soft bounces to one address that suppress it: SoftLimit within
// SoftWindow.
const (
	SoftLimit  = 3
	SoftWindow = 30 * 24 * time.Hour
)

// Bounces records what comes back after a message was sent on the
// delivery that caused it, and what follows for its address and its
// announcement, in one transaction: the event, the delivery's status, a
// suppression or an opt-out, the announcement's counters and guard rails.
// It is the bounce.Sink of the inbound server and the webhooks.
type Bounces struct {
	l        *Ledger
	contacts *contacts.Store
	optOut   func(Announcement) (OptOut, error)
}

// NewBounces returns the sink; optOut says which mail a complaint about an
// announcement opts its recipient out of (its kind's; NoOptOut for
// invoice reminders and transactional mail, which a complaint does not
// stop).
func NewBounces(l *Ledger, store *contacts.Store, optOut func(Announcement) (OptOut, error)) *Bounces {
	return &Bounces{l: l, contacts: store, optOut: optOut}
}

var _ bounce.Sink = (*Bounces)(nil)

// DeliveryEvent is one event recorded on a delivery.
type DeliveryEvent struct {
	ID         int64       `db:"id" json:"-"`
	DeliveryID int64       `db:"delivery_id" json:"-"`
	Kind       bounce.Kind `db:"kind" json:"kind"`
	Code       string      `db:"code" json:"code"`
	Diagnostic string      `db:"diagnostic" json:"diagnostic"`
	Source     string      `db:"source" json:"source"`
	OccurredAt time.Time   `db:"occurred_at" json:"occurred_at"`
}

// Record applies e once (bounce.Sink).
func (b *Bounces) Record(ctx context.Context, e bounce.Event) (applied bool, reason string, err error) {
	if err := checkEvent(e); err != nil {
		return false, err.Error(), nil
	}
	now := b.l.Now()
	at := e.At.UTC().Truncate(time.Microsecond)
	if at.IsZero() || at.After(now) {
		at = now
	}
	// Every source bounds it already; the sink holds to it whoever calls.
	diagnostic := bounce.Diagnostic(e.Diagnostic)
	err = b.l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		applied, reason = false, ""
		var d struct {
			ID           int64          `db:"id"`
			Announcement int64          `db:"announcement_id"`
			Email        string         `db:"email"`
			Status       DeliveryStatus `db:"status"`
			Complained   *time.Time     `db:"complained_at"`
		}
		err := db.Get(ctx, tx, &d, `SELECT id, announcement_id, email, status, complained_at FROM deliveries WHERE id = ?`, e.Delivery)
		if db.IsNoRows(err) {
			reason = fmt.Sprintf("delivery %d does not exist", e.Delivery)
			return nil
		}
		if err != nil {
			return err
		}
		if e.Recipient != "" && !sameAddress(e.Recipient, d.Email) {
			reason = fmt.Sprintf("the event names another recipient than delivery %d's", d.ID)
			return nil
		}
		if d.Status != DeliverySent && d.Status != DeliveryBounced {
			reason = fmt.Sprintf("delivery %d is %s, not sent", d.ID, d.Status)
			return nil
		}
		// Without its counts: the guard rails keep counters of their own.
		a, err := b.l.lookup(ctx, tx, d.Announcement)
		if err != nil {
			return err
		}
		res, err := db.Exec(ctx, tx, `
			INSERT INTO delivery_events (delivery_id, announcement_id, email, kind, code, diagnostic, source, event_id, occurred_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, event_id) DO NOTHING`,
			d.ID, a.ID, d.Email, e.Kind, e.Code, diagnostic, e.Source, e.EventID, at, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			reason = "already recorded"
			return nil
		}
		applied = true
		switch e.Kind {
		case bounce.Hard, bounce.Soft:
			return b.bounced(ctx, tx, &a, d.ID, d.Email, e, diagnostic, at, now)
		case bounce.Complaint:
			return b.complained(ctx, tx, &a, d.ID, d.Email, d.Complained != nil, now)
		}
		return nil // a delay is recorded only
	})
	if err != nil {
		return false, "", fmt.Errorf("record a %s event on delivery %d: %w", e.Kind, e.Delivery, err)
	}
	return applied, reason, nil
}

// checkEvent refuses an event that names nothing to record.
func checkEvent(e bounce.Event) error {
	switch {
	case e.Delivery <= 0:
		return fault.Invalid("delivery", "names no delivery")
	case e.Source == "" || len(e.Source) > 40:
		return fault.Invalid("source", "must be 1 to 40 characters")
	case e.EventID == "" || len(e.EventID) > 500:
		return fault.Invalid("event_id", "must be 1 to 500 characters")
	case len(e.Code) > 20:
		return fault.Invalid("code", "is not a status code")
	}
	for _, k := range bounce.Kinds {
		if e.Kind == k {
			return nil
		}
	}
	return fault.Invalid("kind", "%q is not a kind of event", e.Kind)
}

// sameAddress says whether a reported recipient is the delivery's address,
// as the contacts store compares them.
func sameAddress(reported, stored string) bool {
	forms, err := contacts.LookupEmail("recipient", reported)
	if err != nil {
		return false
	}
	for _, f := range forms {
		if f == stored {
			return true
		}
	}
	return false
}

// bounced moves a sent delivery to bounced and suppresses its address when
// the bounce says the mailbox is gone, or when it is the SoftLimit-th soft
// bounce within SoftWindow.
func (b *Bounces) bounced(ctx context.Context, tx *sqlx.Tx, a *Announcement, id int64, email string, e bounce.Event, diagnostic string, at, now time.Time) error {
	what := strings.TrimSpace(fmt.Sprintf("%s bounce: %s %s", e.Kind, e.Code, diagnostic))
	res, err := db.Exec(ctx, tx, `UPDATE deliveries SET status = ?, reason = ?, updated_at = ? WHERE id = ? AND status = ?`,
		DeliveryBounced, fault.Shorten(what, 300), now, id, DeliverySent)
	if err != nil {
		return err
	}
	first, _ := res.RowsAffected()
	switch {
	case e.Kind == bounce.Hard && first == 1:
		if _, err := db.Exec(ctx, tx, `UPDATE announcements SET hard_bounces = hard_bounces + 1 WHERE id = ?`, a.ID); err != nil {
			return err
		}
		a.HardBounces++
		if err := b.guard(ctx, tx, a); err != nil {
			return err
		}
	}
	why := contacts.Suppression{Reply: fault.Shorten(what, 300), Enhanced: e.Code, DeliveryID: id}
	if e.Kind == bounce.Hard && e.Mailbox {
		return b.contacts.SuppressIn(ctx, tx, email, why)
	}
	if e.Kind == bounce.Soft {
		var n int
		if err := db.Get(ctx, tx, &n, `SELECT COUNT(*) FROM delivery_events WHERE email = ? AND kind = ? AND occurred_at > ?`,
			email, bounce.Soft, at.Add(-SoftWindow)); err != nil {
			return err
		}
		if n >= SoftLimit {
			why.Reply = fault.Shorten(fmt.Sprintf("%d soft bounces within %d days, the last: %s", n, int(SoftWindow.Hours()/24), what), 300)
			return b.contacts.SuppressIn(ctx, tx, email, why)
		}
	}
	return nil
}

// complained marks the delivery and opts its recipient out of the mail of
// its announcement's kind.
func (b *Bounces) complained(ctx context.Context, tx *sqlx.Tx, a *Announcement, id int64, email string, already bool, now time.Time) error {
	if !already {
		if _, err := db.Exec(ctx, tx, `UPDATE deliveries SET complained_at = ?, updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		if _, err := db.Exec(ctx, tx, `UPDATE announcements SET complaints = complaints + 1 WHERE id = ?`, a.ID); err != nil {
			return err
		}
		a.Complaints++
		if err := b.guard(ctx, tx, a); err != nil {
			return err
		}
	}
	o, err := b.optOut(*a)
	if err != nil {
		return err
	}
	return b.contacts.OptOutIn(ctx, tx, email, o)
}

// guard pauses a sending announcement whose complaints or hard bounces
// passed their limits. The counters rise at each event, and the messages
// sent only grow: while the counters stay under the limits of the count
// last seen (guard_sent), the rates do too, and nothing is counted.
func (b *Bounces) guard(ctx context.Context, tx *sqlx.Tx, a *Announcement) error {
	var g struct {
		Status Status `db:"status"`
		Sent   int    `db:"guard_sent"`
	}
	if err := db.Get(ctx, tx, &g, `SELECT status, guard_sent FROM announcements WHERE id = ?`, a.ID); err != nil {
		return err
	}
	if g.Status != Sending || !over(a, max(g.Sent, GuardAfter)) {
		return nil
	}
	var sent int
	if err := db.Get(ctx, tx, &sent, `SELECT COUNT(*) FROM deliveries WHERE announcement_id = ? AND status IN (?, ?)`,
		a.ID, DeliverySent, DeliveryBounced); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, tx, `UPDATE announcements SET guard_sent = ? WHERE id = ?`, sent, a.ID); err != nil {
		return err
	}
	if sent < GuardAfter || !over(a, sent) {
		return nil
	}
	reason := fmt.Sprintf("complaints at %.2f%% and hard bounces at %.2f%% of %d messages sent: over the limits of %.1f%% and %.0f%%; look at the content and the audience before resuming",
		100*float64(a.Complaints)/float64(sent), 100*float64(a.HardBounces)/float64(sent), sent, 100*GuardComplaintRate, 100*GuardHardRate)
	_, err := db.Exec(ctx, tx, `
		UPDATE announcements SET status = ?, paused_reason = ?, paused_by = ?, paused_from = status, updated_at = ?
		WHERE id = ? AND status = ?`, Paused, reason, PausedByGuardRails, b.l.Now(), a.ID, Sending)
	return err
}

// over says whether a's complaints or hard bounces pass their limits out of
// sent messages.
func over(a *Announcement, sent int) bool {
	return float64(a.Complaints) > GuardComplaintRate*float64(sent) || float64(a.HardBounces) > GuardHardRate*float64(sent)
}

// Events returns the events recorded on deliveries ids, by delivery,
// oldest first.
func (l *Ledger) Events(ctx context.Context, ids []int64) (map[int64][]DeliveryEvent, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	query, args, err := db.In(`SELECT id, delivery_id, kind, code, diagnostic, source, occurred_at FROM delivery_events
		WHERE delivery_id IN (?) ORDER BY delivery_id, id`, ids)
	if err != nil {
		return nil, err
	}
	var rows []DeliveryEvent
	if err := db.Select(ctx, l.db.Read, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("events of %d deliveries: %w", len(ids), err)
	}
	out := make(map[int64][]DeliveryEvent, len(ids))
	for _, r := range rows {
		out[r.DeliveryID] = append(out[r.DeliveryID], r)
	}
	return out, nil
}
