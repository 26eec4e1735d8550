package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

// NewAnnouncement is what it takes to announce something.
type NewAnnouncement struct {
	Kind      Kind
	DedupeKey string
	Template  string
	Subject   string // for lists and logs; each message renders its own
	Ref       string // what it is about, to find it by (an invoice number)
	Params    any    // marshalled to JSON; what the template needs besides the recipient
	Audience  any    // marshalled to JSON; who gets it
	SendAt    time.Time
}

const announcementColumns = `id, kind, dedupe_key, template, subject, params, audience, send_at, status, created_at, updated_at, finished_at, archived_counts, paused_reason, paused_by, paused_from, hard_bounces, complaints`

// Create stores an announcement in tx, unless one with the same dedupe key
// exists, in which case that one is returned with created false. It is
// scheduled when SendAt is in the future, else due (resolving) at once.
func (l *Ledger) Create(ctx context.Context, tx *sqlx.Tx, na NewAnnouncement) (a Announcement, created bool, err error) {
	params, err := json.Marshal(na.Params)
	if err != nil {
		return Announcement{}, false, fmt.Errorf("announcement params: %w", err)
	}
	audience, err := json.Marshal(na.Audience)
	if err != nil {
		return Announcement{}, false, fmt.Errorf("announcement audience: %w", err)
	}
	now := l.Now()
	sendAt := na.SendAt.UTC().Truncate(time.Microsecond)
	if sendAt.IsZero() {
		sendAt = now
	}
	status := Resolving
	if sendAt.After(now) {
		status = Scheduled
	}
	res, err := db.Exec(ctx, tx, `
		INSERT INTO announcements (kind, dedupe_key, template, subject, ref, params, audience, send_at, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING`,
		na.Kind, na.DedupeKey, na.Template, na.Subject, na.Ref, string(params), string(audience), sendAt, status, now, now)
	if err != nil {
		return Announcement{}, false, fmt.Errorf("create announcement %s: %w", na.DedupeKey, err)
	}
	n, _ := res.RowsAffected()
	err = db.Get(ctx, tx, &a, `SELECT `+announcementColumns+` FROM announcements WHERE dedupe_key = ?`, na.DedupeKey)
	if err != nil {
		return Announcement{}, false, fmt.Errorf("read announcement %s: %w", na.DedupeKey, err)
	}
	a.normalize()
	return a, n == 1, nil
}

// Announce stores an announcement in a transaction of its own, as Create
// does, and returns it with its counts.
func (l *Ledger) Announce(ctx context.Context, na NewAnnouncement) (a Announcement, created bool, err error) {
	err = l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		a, created, err = l.Create(ctx, tx, na)
		return err
	})
	if err != nil {
		return Announcement{}, false, err
	}
	a, err = l.Get(ctx, a.ID)
	return a, created, err
}

func (a *Announcement) normalize() {
	a.SendAt = a.SendAt.UTC()
	a.CreatedAt = a.CreatedAt.UTC()
	a.UpdatedAt = a.UpdatedAt.UTC()
	if a.FinishedAt != nil {
		t := a.FinishedAt.UTC()
		a.FinishedAt = &t
	}
}

// Get returns an announcement with its counts.
func (l *Ledger) Get(ctx context.Context, id int64) (Announcement, error) {
	return l.get(ctx, l.db.Read, id)
}

func (l *Ledger) get(ctx context.Context, q sqlx.ExtContext, id int64) (Announcement, error) {
	var a Announcement
	err := db.Get(ctx, q, &a, `SELECT `+announcementColumns+` FROM announcements WHERE id = ?`, id)
	if db.IsNoRows(err) {
		return Announcement{}, fault.NotFound("announcement %d does not exist", id)
	}
	if err != nil {
		return Announcement{}, fmt.Errorf("get announcement %d: %w", id, err)
	}
	a.normalize()
	list := []Announcement{a}
	if err := l.withCounts(ctx, q, list); err != nil {
		return Announcement{}, err
	}
	return list[0], nil
}

// Filter selects announcements; empty fields select everything. Kind is
// not checked here: the ledger does not know which kinds exist.
type Filter struct {
	Kind   Kind
	Status Status
	Page   page.Request
}

// List returns announcements, newest first.
func (l *Ledger) List(ctx context.Context, f Filter) (page.Page[Announcement], error) {
	limit, afterID, err := f.Page.DecodeID()
	if err != nil {
		return page.Page[Announcement]{}, err
	}
	query := `SELECT ` + announcementColumns + ` FROM announcements WHERE 1 = 1`
	var args []any
	if afterID != 0 {
		query += ` AND id < ?`
		args = append(args, afterID)
	}
	if f.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.Status != "" {
		if err := checkStatus(f.Status); err != nil {
			return page.Page[Announcement]{}, err
		}
		query += ` AND status = ?`
		args = append(args, f.Status)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	var list []Announcement
	if err := db.Select(ctx, l.db.Read, &list, query, args...); err != nil {
		return page.Page[Announcement]{}, fmt.Errorf("list announcements: %w", err)
	}
	for i := range list {
		list[i].normalize()
	}
	p := page.OfID(list, limit, func(a Announcement) int64 { return a.ID })
	if err := l.withCounts(ctx, l.db.Read, p.Items); err != nil {
		return page.Page[Announcement]{}, err
	}
	return p, nil
}

// withCounts fills in the counts of every announcement with one query.
func (l *Ledger) withCounts(ctx context.Context, q sqlx.ExtContext, list []Announcement) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]int64, len(list))
	index := make(map[int64]int, len(list))
	for i, a := range list {
		ids[i] = a.ID
		index[a.ID] = i
	}
	query, args, err := db.In(`
		SELECT announcement_id, status, COUNT(*) AS n FROM deliveries
		WHERE announcement_id IN (?) GROUP BY announcement_id, status`, ids)
	if err != nil {
		return err
	}
	var rows []struct {
		AnnouncementID int64          `db:"announcement_id"`
		Status         DeliveryStatus `db:"status"`
		N              int            `db:"n"`
	}
	if err := db.Select(ctx, q, &rows, query, args...); err != nil {
		return fmt.Errorf("count deliveries: %w", err)
	}
	for i := range list {
		if len(list[i].Archived) > 0 {
			if err := json.Unmarshal(list[i].Archived, &list[i].Counts); err != nil {
				return fmt.Errorf("archived counts of %d: %w", list[i].ID, err)
			}
		}
	}
	for _, r := range rows {
		c := &list[index[r.AnnouncementID]].Counts
		c.Recipients += r.N
		switch r.Status {
		case DeliveryPending:
			c.Pending += r.N
		case DeliverySending:
			c.Sending += r.N
		case DeliverySent:
			c.Sent += r.N
		case DeliveryFailed:
			c.Failed += r.N
		case DeliverySkipped:
			c.Skipped += r.N
		case DeliveryCancelled:
			c.Cancelled += r.N
		case DeliveryBounced:
			c.Bounced += r.N
		}
	}
	for i := range list {
		if len(list[i].Archived) == 0 {
			list[i].Counts.Complained = list[i].Complaints
		}
	}
	return nil
}

// move runs update, which changes announcement id in tx only from the
// states its WHERE names. When it changed nothing, move returns the
// announcement as it is, for the caller to say why it could not move.
func (l *Ledger) move(ctx context.Context, tx *sqlx.Tx, id int64, update string, args ...any) (*Announcement, error) {
	res, err := db.Exec(ctx, tx, update, args...)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil, nil
	}
	cur, err := l.get(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	return &cur, nil
}

// Cancel stops an announcement: it will not fan out, and its pending
// deliveries become cancelled. Deliveries already handed to a worker
// (sending) finish. Cancelling a done or cancelled announcement is a
// conflict.
func (l *Ledger) Cancel(ctx context.Context, id int64) (Announcement, error) {
	var a Announcement
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		now := l.Now()
		cur, err := l.move(ctx, tx, id, `
			UPDATE announcements SET status = ?, updated_at = ?, finished_at = ?
			WHERE id = ? AND status IN (?, ?, ?, ?)`,
			Cancelled, now, now, id, Scheduled, Resolving, Sending, Paused)
		if err != nil {
			return err
		}
		if cur != nil {
			return fault.Conflict("announcement %d is %s already and cannot be cancelled", id, cur.Status)
		}
		if _, err := db.Exec(ctx, tx, `
			UPDATE deliveries SET status = ?, reason = ?, updated_at = ?
			WHERE announcement_id = ? AND status = ?`,
			DeliveryCancelled, "announcement cancelled", now, id, DeliveryPending); err != nil {
			return err
		}
		a, err = l.get(ctx, tx, id)
		return err
	})
	if err != nil {
		return Announcement{}, fmt.Errorf("cancel announcement %d: %w", id, err)
	}
	return a, nil
}

// RetryFailed makes the failed deliveries of an announcement pending again,
// due now, with a fresh retry budget, and reopens it. Each keeps its last
// SMTP reply (last_error) until it is sent. A failed delivery whose contact
// is suppressed now is not retried: it becomes skipped, with the reason
// "suppressed", so that a refusal for everyone can be retried once its
// suppressions are lifted while a mailbox that is gone is not. RetryFailed
// returns the chunks to enqueue; none, and the announcement as it was but
// for those skipped, when nothing is to be retried.
func (l *Ledger) RetryFailed(ctx context.Context, id int64) (Announcement, []int, error) {
	var (
		a      Announcement
		chunks []int
	)
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		chunks = nil
		// Lock the announcement before touching its deliveries: the row
		// lock this update takes, changing nothing, makes a concurrent
		// cancel or prune wait for this transaction; it also checks the
		// announcement as one that a retry may be asked of.
		cur, err := l.move(ctx, tx, id, `
			UPDATE announcements SET status = status WHERE id = ? AND status IN (?, ?) AND archived_counts IS NULL`,
			id, Sending, Done)
		if err != nil {
			return err
		}
		if cur != nil {
			if len(cur.Archived) > 0 {
				return fault.Conflict("announcement %d is older than the retention period; its deliveries are gone", id)
			}
			return fault.Conflict("announcement %d is %s; only a sending or done announcement has failed deliveries to retry", id, cur.Status)
		}
		now := l.Now()
		if _, err := db.Exec(ctx, tx, `
			UPDATE deliveries SET status = ?, reason = ?, updated_at = ?
			WHERE announcement_id = ? AND status = ?
			AND EXISTS (SELECT 1 FROM contacts c WHERE c.email = deliveries.email AND c.suppressed_at IS NOT NULL)`,
			DeliverySkipped, "suppressed", now, id, DeliveryFailed); err != nil {
			return err
		}
		if err := db.Select(ctx, tx, &chunks, `
			SELECT DISTINCT chunk FROM deliveries WHERE announcement_id = ? AND status = ? ORDER BY chunk`,
			id, DeliveryFailed); err != nil {
			return err
		}
		if len(chunks) > 0 {
			// attempts is the retry budget, which starts again; the claim
			// fence (claims) goes on counting.
			if _, err := db.Exec(ctx, tx, `
				UPDATE deliveries SET status = ?, attempts = 0, throttles = 0, next_attempt_at = ?, updated_at = ?
				WHERE announcement_id = ? AND status = ?`,
				DeliveryPending, now, now, id, DeliveryFailed); err != nil {
				return err
			}
			// Reopened; with nothing to retry, a done announcement stays
			// done, finished when it finished.
			if _, err := db.Exec(ctx, tx, `UPDATE announcements SET status = ?, finished_at = NULL, updated_at = ? WHERE id = ?`,
				Sending, now, id); err != nil {
				return err
			}
		}
		a, err = l.get(ctx, tx, id)
		return err
	})
	if err != nil {
		return Announcement{}, nil, fmt.Errorf("retry failed deliveries of %d: %w", id, err)
	}
	return a, chunks, nil
}

// FinishIfDone marks a sending announcement done when none of its
// deliveries is pending or being sent; it reports whether it did.
func (l *Ledger) FinishIfDone(ctx context.Context, id int64) (bool, error) {
	now := l.Now()
	res, err := db.Exec(ctx, l.db, `
		UPDATE announcements SET status = ?, finished_at = ?, updated_at = ?
		WHERE id = ? AND status = ? AND NOT fanout_pending
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE announcement_id = ? AND status IN (?, ?))`,
		Done, now, now, id, Sending, id, DeliveryPending, DeliverySending)
	if err != nil {
		return false, fmt.Errorf("finish announcement %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func checkStatus(s Status) error {
	switch s {
	case Scheduled, Resolving, Sending, Paused, Done, Cancelled:
		return nil
	}
	return fault.Invalid("status", "%q is not a status (scheduled, resolving, sending, paused, done or cancelled)", s)
}

// Lookup returns an announcement without counting its deliveries: for
// workers, which need what it is, not how far it got.
func (l *Ledger) Lookup(ctx context.Context, id int64) (Announcement, error) {
	return l.lookup(ctx, l.db.Read, id)
}

// lookup is Lookup through q.
func (l *Ledger) lookup(ctx context.Context, q sqlx.ExtContext, id int64) (Announcement, error) {
	var a Announcement
	err := db.Get(ctx, q, &a, `SELECT `+announcementColumns+` FROM announcements WHERE id = ?`, id)
	if db.IsNoRows(err) {
		return Announcement{}, fault.NotFound("announcement %d does not exist", id)
	}
	if err != nil {
		return Announcement{}, fmt.Errorf("get announcement %d: %w", id, err)
	}
	a.normalize()
	return a, nil
}

// ByRef returns the announcements of a kind about ref, oldest first, with
// their counts: the reminders of one invoice.
func (l *Ledger) ByRef(ctx context.Context, kind Kind, ref string) ([]Announcement, error) {
	list := []Announcement{}
	err := db.Select(ctx, l.db.Read, &list, `SELECT `+announcementColumns+` FROM announcements
		WHERE kind = ? AND ref = ? ORDER BY id`, kind, ref)
	if err != nil {
		return nil, fmt.Errorf("announcements of %s %s: %w", kind, ref, err)
	}
	for i := range list {
		list[i].normalize()
	}
	if err := l.withCounts(ctx, l.db.Read, list); err != nil {
		return nil, err
	}
	return list, nil
}

// WaitSettled waits until no delivery of an announcement is being sent (a
// worker claimed it before a cancel), or until timeout. It reports whether
// they all settled.
func (l *Ledger) WaitSettled(ctx context.Context, id int64, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		var sending int
		if err := db.Get(ctx, l.db.Read, &sending, `SELECT COUNT(*) FROM deliveries WHERE announcement_id = ? AND status = ?`, id, DeliverySending); err != nil {
			return false, err
		}
		if sending == 0 {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}
