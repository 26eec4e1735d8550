package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
)

// ChunkRef names the send work of one chunk of an announcement.
type ChunkRef struct {
	AnnouncementID int64 `db:"announcement_id"`
	Chunk          int   `db:"chunk"`
}

// ExpireLeases returns claimed deliveries whose lease ran out (their worker
// died or stalled) to pending, due now, and returns the chunks they are in.
func (l *Ledger) ExpireLeases(ctx context.Context) ([]ChunkRef, error) {
	now := l.Now()
	var rows []ChunkRef
	err := db.Select(ctx, l.db, &rows, expireLeasesQuery, DeliveryPending, now, now, now)
	if err != nil {
		return nil, fmt.Errorf("expire leases: %w", err)
	}
	seen := make(map[ChunkRef]bool, len(rows))
	refs := rows[:0]
	for _, r := range rows {
		if !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	return refs, nil
}

// SweepCancelled cancels the pending deliveries of cancelled announcements:
// those that were being sent when the cancel came and went back to pending
// (a retry, an expired lease) would otherwise wait forever.
func (l *Ledger) SweepCancelled(ctx context.Context) (int64, error) {
	now := l.Now()
	res, err := db.Exec(ctx, l.db, `
		UPDATE deliveries SET status = ?, reason = ?, lease_until = NULL, updated_at = ?
		WHERE status = ? AND announcement_id IN (SELECT id FROM announcements WHERE status = ?)`,
		DeliveryCancelled, "announcement cancelled", now, DeliveryPending, Cancelled)
	if err != nil {
		return 0, fmt.Errorf("sweep cancelled announcements: %w", err)
	}
	return res.RowsAffected()
}

// StartDue moves scheduled announcements whose send_at has come to
// resolving.
func (l *Ledger) StartDue(ctx context.Context) (int64, error) {
	now := l.Now()
	res, err := db.Exec(ctx, l.db, `
		UPDATE announcements SET status = ?, updated_at = ? WHERE status = ? AND send_at <= ?`,
		Resolving, now, Scheduled, now)
	if err != nil {
		return 0, fmt.Errorf("start due announcements: %w", err)
	}
	return res.RowsAffected()
}

// ToResolve returns the announcements that are due and not yet fanned out,
// or whose fan-out stopped before the last page.
func (l *Ledger) ToResolve(ctx context.Context) ([]int64, error) {
	var ids []int64
	if err := db.Select(ctx, l.db.Read, &ids, `SELECT id FROM announcements WHERE status = ? OR fanout_pending ORDER BY id`, Resolving); err != nil {
		return nil, fmt.Errorf("list resolving announcements: %w", err)
	}
	return ids, nil
}

// Prune deletes the deliveries of announcements that finished before
// before, keeping their final counts on the announcement (and the
// announcement itself, whose dedupe key must go on preventing a second
// send). It returns how many deliveries it deleted.
func (l *Ledger) Prune(ctx context.Context, before time.Time) (int64, error) {
	var ids []int64
	if err := db.Select(ctx, l.db.Read, &ids, `
		SELECT id FROM announcements WHERE status IN (?, ?) AND finished_at < ? AND archived_counts IS NULL`,
		Done, Cancelled, before.UTC()); err != nil {
		return 0, fmt.Errorf("old announcements: %w", err)
	}
	var deleted int64
	for _, id := range ids {
		err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
			// Claim the announcement for pruning under its row lock, so
			// that a retry-failed that reopened it meanwhile wins.
			res, err := db.Exec(ctx, tx, `UPDATE announcements SET archived_counts = '{}' WHERE id = ? AND status IN (?, ?) AND archived_counts IS NULL`,
				id, Done, Cancelled)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			list := []Announcement{{ID: id}}
			if err := l.withCounts(ctx, tx, list); err != nil {
				return err
			}
			counts, err := json.Marshal(list[0].Counts)
			if err != nil {
				return err
			}
			if _, err := db.Exec(ctx, tx, `UPDATE announcements SET archived_counts = ? WHERE id = ?`, string(counts), id); err != nil {
				return err
			}
			res, err = db.Exec(ctx, tx, `DELETE FROM deliveries WHERE announcement_id = ?`, id)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			deleted += n
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("prune announcement %d: %w", id, err)
		}
	}
	return deleted, nil
}

// Overdue returns the chunks with pending deliveries that have been due for
// longer than grace: work whose task was lost (a Redis flush or restart, a
// crash between commit and enqueue) or never made.
func (l *Ledger) Overdue(ctx context.Context, grace time.Duration) ([]ChunkRef, error) {
	var refs []ChunkRef
	err := db.Select(ctx, l.db.Read, &refs, `
		SELECT DISTINCT d.announcement_id, d.chunk FROM deliveries d
		JOIN announcements a ON a.id = d.announcement_id
		WHERE d.`+isPending+` AND d.next_attempt_at <= ? AND a.status = ?
		ORDER BY d.announcement_id, d.chunk`, l.Now().Add(-grace), Sending)
	if err != nil {
		return nil, fmt.Errorf("overdue deliveries: %w", err)
	}
	return refs, nil
}

// EarliestOverdue returns, for each sending announcement with pending
// deliveries overdue by grace, the first chunk that holds one. While a
// large announcement's chunks wait in the queue, that chunk is the one
// being worked on, and finding it costs a walk of the announcement's
// chunk index up to it, not a scan of everything pending.
func (l *Ledger) EarliestOverdue(ctx context.Context, grace time.Duration) ([]ChunkRef, error) {
	var ids []int64
	if err := db.Select(ctx, l.db.Read, &ids, `SELECT id FROM announcements WHERE status = ? ORDER BY id`, Sending); err != nil {
		return nil, fmt.Errorf("sending announcements: %w", err)
	}
	var refs []ChunkRef
	for _, id := range ids {
		// deliveries_due gives them in chunk order: the first one ends
		// the query.
		var chunks []int
		if err := db.Select(ctx, l.db.Read, &chunks, earliestOverdueQuery, id, l.Now().Add(-grace)); err != nil {
			return nil, fmt.Errorf("earliest overdue chunk of %d: %w", id, err)
		}
		if len(chunks) == 1 {
			refs = append(refs, ChunkRef{AnnouncementID: id, Chunk: chunks[0]})
		}
	}
	return refs, nil
}

// OverdueOf is Overdue for one announcement.
func (l *Ledger) OverdueOf(ctx context.Context, id int64, grace time.Duration) ([]ChunkRef, error) {
	var refs []ChunkRef
	err := db.Select(ctx, l.db.Read, &refs, `
		SELECT DISTINCT announcement_id, chunk FROM deliveries
		WHERE announcement_id = ? AND `+isPending+` AND next_attempt_at <= ?
		ORDER BY chunk`, id, l.Now().Add(-grace))
	if err != nil {
		return nil, fmt.Errorf("overdue deliveries of %d: %w", id, err)
	}
	return refs, nil
}

// FinishAllDone marks done every sending announcement with nothing left to
// send, so that a finish missed by a crash is made up. It returns how many.
func (l *Ledger) FinishAllDone(ctx context.Context) (int64, error) {
	now := l.Now()
	res, err := db.Exec(ctx, l.db, `
		UPDATE announcements SET status = ?, finished_at = ?, updated_at = ?
		WHERE status = ? AND NOT fanout_pending
		AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.announcement_id = announcements.id AND d.status IN (?, ?))`,
		Done, now, now, Sending, DeliveryPending, DeliverySending)
	if err != nil {
		return 0, fmt.Errorf("finish announcements: %w", err)
	}
	return res.RowsAffected()
}
