package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// PausedByRelay is who pauses an announcement when the relay fails as a
// whole; such a pause ends by itself once the relay works.
const PausedByRelay = "relay"

// PausedByHerald is who pauses an announcement when the relay refused its
// messages the same way for too long, each time it seemed to work again:
// likely the messages' fault (their content, their sender) more than the
// relay's. Staff resume it once they have fixed what the reply says.
const PausedByHerald = "herald"

// PausedByGuardRails is who pauses an announcement whose complaints or
// hard bounces passed their limits (Bounces): the mail itself or its
// audience is at fault, not the relay. Like a pause by hand, it ends only
// when staff resume it.
const PausedByGuardRails = "guard rails"

// PauseForRelay pauses a sending announcement because the relay fails:
// its workers take no delivery until ResumeForRelay. An announcement
// paused by hand stays paused by hand. It reports whether it paused it.
func (l *Ledger) PauseForRelay(ctx context.Context, id int64, reason string) (bool, error) {
	now := l.Now()
	res, err := db.Exec(ctx, l.db, `
		UPDATE announcements SET status = ?, paused_reason = ?, paused_by = ?, paused_from = status, updated_at = ?
		WHERE id = ? AND status = ?`, Paused, reason, PausedByRelay, now, id, Sending)
	if err != nil {
		return false, fmt.Errorf("pause announcement %d: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// PausedForRelay counts the announcements that wait for the relay to work.
func (l *Ledger) PausedForRelay(ctx context.Context) (int, error) {
	var n int
	if err := db.Get(ctx, l.db.Read, &n, `SELECT COUNT(*) FROM announcements WHERE status = ? AND paused_by = ?`, Paused, PausedByRelay); err != nil {
		return 0, fmt.Errorf("count announcements the relay paused: %w", err)
	}
	return n, nil
}

// Pause pauses an announcement by hand, whoever by: scheduled, resolving
// or sending, it takes no step until Resume. Pausing one the relay paused
// makes it paused by hand: it no longer resumes by itself.
func (l *Ledger) Pause(ctx context.Context, id int64, reason, by string) (Announcement, error) {
	var a Announcement
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		now := l.Now()
		cur, err := l.move(ctx, tx, id, `
			UPDATE announcements SET status = ?, paused_reason = ?, paused_by = ?, updated_at = ?,
				paused_from = CASE WHEN status = ? THEN paused_from ELSE status END
			WHERE id = ? AND status IN (?, ?, ?, ?)`,
			Paused, reason, by, now, Paused, id, Scheduled, Resolving, Sending, Paused)
		if err != nil {
			return err
		}
		if cur != nil {
			return fault.Conflict("announcement %d is %s and cannot be paused", id, cur.Status)
		}
		a, err = l.get(ctx, tx, id)
		return err
	})
	if err != nil {
		return Announcement{}, fmt.Errorf("pause announcement %d: %w", id, err)
	}
	return a, nil
}

// Resume ends a pause, by hand or the relay's, and returns the
// announcement with the work to enqueue again.
func (l *Ledger) Resume(ctx context.Context, id int64) (Announcement, Resumed, error) {
	var (
		a   Announcement
		res Resumed
	)
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := l.resume(ctx, tx, `id = ?`, id)
		if err != nil {
			return err
		}
		if len(cur) == 0 {
			a, err := l.get(ctx, tx, id)
			if err != nil {
				return err
			}
			return fault.Conflict("announcement %d is %s, not paused", id, a.Status)
		}
		if res, err = l.resumed(ctx, tx, cur); err != nil {
			return err
		}
		a, err = l.get(ctx, tx, id)
		return err
	})
	if err != nil {
		return Announcement{}, Resumed{}, fmt.Errorf("resume announcement %d: %w", id, err)
	}
	return a, res, nil
}

// ResumeForRelay ends every pause the relay made, once it works again, and
// returns the work to enqueue again.
func (l *Ledger) ResumeForRelay(ctx context.Context) (Resumed, error) {
	var res Resumed
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := l.resume(ctx, tx, `paused_by = ?`, PausedByRelay)
		if err != nil {
			return err
		}
		res, err = l.resumed(ctx, tx, cur)
		return err
	})
	if err != nil {
		return Resumed{}, fmt.Errorf("resume announcements the relay paused: %w", err)
	}
	return res, nil
}

// Resumed is the work of resumed announcements: fan-outs (they were
// resolving) and chunks with pending deliveries (they were sending).
type Resumed struct {
	Announcements []int64
	Fanouts       []int64
	Chunks        []ChunkRef
}

// resume takes the paused announcements that match where back to the
// status they were paused from, and returns them as they were.
func (l *Ledger) resume(ctx context.Context, tx *sqlx.Tx, where string, args ...any) ([]Announcement, error) {
	var list []Announcement
	if err := db.Select(ctx, tx, &list, `SELECT `+announcementColumns+` FROM announcements WHERE status = ? AND `+where,
		append([]any{Paused}, args...)...); err != nil {
		return nil, err
	}
	now := l.Now()
	taken := list[:0]
	for _, a := range list {
		// where again: a pause by hand may have come since the select.
		res, err := db.Exec(ctx, tx, `
			UPDATE announcements SET status = paused_from, paused_reason = '', paused_by = '', paused_from = '', updated_at = ?
			WHERE id = ? AND status = ? AND `+where, append([]any{now, a.ID, Paused}, args...)...)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			taken = append(taken, a)
		}
	}
	return taken, nil
}

// resumed says what to enqueue for announcements resume took back.
func (l *Ledger) resumed(ctx context.Context, tx *sqlx.Tx, list []Announcement) (Resumed, error) {
	var res Resumed
	for _, a := range list {
		res.Announcements = append(res.Announcements, a.ID)
		switch a.PausedFrom {
		case Resolving:
			res.Fanouts = append(res.Fanouts, a.ID)
		case Sending:
			chunks, err := pendingChunks(ctx, tx, a.ID, 0)
			if err != nil {
				return Resumed{}, err
			}
			for _, c := range chunks {
				res.Chunks = append(res.Chunks, ChunkRef{AnnouncementID: a.ID, Chunk: c})
			}
		}
	}
	return res, nil
}

// Release gives a claimed delivery back untried, pending again from next,
// the attempt not counted: the relay failed as a whole, which is not the
// message's failure. reason is kept as its last error.
func (l *Ledger) Release(ctx context.Context, c Claim, reason string, next time.Time) error {
	return l.release(ctx, c, reason, next, 0)
}

// StillSending says whether claim c still holds and its announcement is
// still sending, not paused or cancelled since the claim, and extends its
// lease: for a message that waited before it could be sent.
func (l *Ledger) StillSending(ctx context.Context, c Claim, lease time.Duration) (bool, error) {
	now := l.Now()
	res, err := db.Exec(ctx, l.db, `
		UPDATE deliveries SET lease_until = ? WHERE id = ? AND status = ? AND claims = ? AND attempts = ?
		AND EXISTS (SELECT 1 FROM announcements a WHERE a.id = deliveries.announcement_id AND a.status = ?)`,
		now.Add(lease), c.Delivery, DeliverySending, c.Fence, c.Attempt, Sending)
	if err != nil {
		return false, fmt.Errorf("check claim of delivery %d: %w", c.Delivery, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Throttled gives a claimed delivery back untried, like Release, and
// counts the throttling reply the relay gave it.
func (l *Ledger) Throttled(ctx context.Context, c Claim, reason string, next time.Time) error {
	return l.release(ctx, c, reason, next, 1)
}

func (l *Ledger) release(ctx context.Context, c Claim, reason string, next time.Time, throttles int) error {
	_, err := db.Exec(ctx, l.db, `
		UPDATE deliveries SET status = ?, attempts = attempts - 1, throttles = throttles + ?, next_attempt_at = ?, last_error = ?,
			lease_until = NULL, updated_at = ?
		WHERE id = ? AND status = ? AND claims = ? AND attempts = ?`,
		DeliveryPending, throttles, next.UTC().Truncate(time.Microsecond), reason, l.Now(), c.Delivery, DeliverySending, c.Fence, c.Attempt)
	if err != nil {
		return fmt.Errorf("release delivery %d: %w", c.Delivery, err)
	}
	return nil
}

// Unfail takes back failures that turned out to be the relay's: the same
// refusal for every message, whoever it was for. The deliveries are
// pending again, their attempts not counted, and their announcements
// paused for the relay, done ones too, so that none is sent before the
// relay works again; by is who paused them: PausedByRelay, which resumes
// them once the relay works, or PausedByHerald, which leaves them to staff
// (and takes over a pause for the relay). It returns the announcements it
// paused.
func (l *Ledger) Unfail(ctx context.Context, claims []Claim, reason, by string) ([]int64, error) {
	var paused []int64
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		paused = nil
		now := l.Now()
		seen := map[int64]bool{}
		for _, c := range claims {
			var ids []int64
			if err := db.Select(ctx, tx, &ids, `
				UPDATE deliveries SET status = ?, attempts = attempts - 1, next_attempt_at = ?, updated_at = ?
				WHERE id = ? AND status = ? AND claims = ? AND attempts = ?
				RETURNING announcement_id`,
				DeliveryPending, now, now, c.Delivery, DeliveryFailed, c.Fence, c.Attempt); err != nil {
				return err
			}
			for _, id := range ids {
				if seen[id] {
					continue
				}
				seen[id] = true
				res, err := db.Exec(ctx, tx, `
					UPDATE announcements SET status = ?, paused_reason = ?, paused_by = ?, paused_from = ?, finished_at = NULL, updated_at = ?
					WHERE id = ? AND status IN (?, ?)`, Paused, reason, by, Sending, now, id, Sending, Done)
				if err != nil {
					return err
				}
				n, _ := res.RowsAffected()
				if n == 0 && by != PausedByRelay {
					// Paused for the relay already (by another process):
					// now left to staff.
					res, err := db.Exec(ctx, tx, `
						UPDATE announcements SET paused_reason = ?, paused_by = ?, updated_at = ?
						WHERE id = ? AND status = ? AND paused_by = ?`, reason, by, now, id, Paused, PausedByRelay)
					if err != nil {
						return err
					}
					n, _ = res.RowsAffected()
				}
				if n == 1 {
					paused = append(paused, id)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take back failures: %w", err)
	}
	return paused, nil
}
