package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// Resolve turns a due announcement's whole audience into deliveries, page
// after page of pageSize addresses, and returns the chunks that have
// pending deliveries. It is ResolvePage run until the audience is in, for
// callers that do not enqueue as they go.
func (l *Ledger) Resolve(ctx context.Context, id int64, aud Audience, chunkSize int) ([]int, error) {
	var all []int
	for {
		chunks, more, err := l.ResolvePage(ctx, id, aud, chunkSize, 10*chunkSize)
		if err != nil {
			return nil, err
		}
		all = append(all, chunks...)
		if !more {
			return all, nil
		}
	}
}

// ResolvePage inserts the next page of up to pageSize addresses of an
// announcement's audience as deliveries, in address order, numbered into
// chunks of chunkSize after those of the pages before, and commits it with
// the address it stopped at. The first page moves the announcement from
// resolving to sending, so that its chunks are sent while the next pages
// are inserted; more says whether pages remain. It returns the page's
// chunks that have pending deliveries, while the announcement is sending.
//
// Each page is one transaction: a fan-out that stops (a crash, a restart)
// carries on after the last page committed, and the announcement cannot
// be finished before its last page is in. Once the audience is in,
// resolving again inserts nothing and returns the chunks still pending.
//
// A page costs what its rows cost only where the audience can be read in
// address order from an index (memberships by email): the audiences of
// herald's kinds can.
func (l *Ledger) ResolvePage(ctx context.Context, id int64, aud Audience, chunkSize, pageSize int) (chunks []int, more bool, err error) {
	err = l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		chunks, more = nil, false
		now := l.Now()
		// Take the announcement from resolving to sending first: the row
		// lock this takes makes a concurrent cancel wait for this
		// transaction, and then cancel the deliveries it made, instead of
		// being overwritten by it. A later page takes the same lock.
		if _, err := db.Exec(ctx, tx, `
			UPDATE announcements SET status = ?, fanout_after = '', updated_at = ? WHERE id = ? AND status = ?`,
			Sending, now, id, Resolving); err != nil {
			return err
		}
		if _, err := db.Exec(ctx, tx, `UPDATE announcements SET updated_at = ? WHERE id = ? AND fanout_after IS NOT NULL`, now, id); err != nil {
			return err
		}
		var a struct {
			Status Status         `db:"status"`
			After  sql.NullString `db:"fanout_after"`
		}
		err := db.Get(ctx, tx, &a, `SELECT status, fanout_after FROM announcements WHERE id = ?`, id)
		if db.IsNoRows(err) {
			return fault.NotFound("announcement %d does not exist", id)
		}
		if err != nil {
			return err
		}
		switch {
		case !a.After.Valid && a.Status == Sending:
			// Resolved before: what is still pending.
			return db.Select(ctx, tx, &chunks, `
				SELECT DISTINCT chunk FROM deliveries WHERE announcement_id = ? AND status = ? ORDER BY chunk`,
				id, DeliveryPending)
		case !a.After.Valid:
			return nil // not yet due, or over
		case a.Status == Cancelled:
			// Nobody more is to be told.
			_, err := db.Exec(ctx, tx, `UPDATE announcements SET fanout_after = NULL WHERE id = ?`, id)
			return err
		}
		first, n, err := l.insertPage(ctx, tx, id, aud, a.After.String, chunkSize, pageSize, now)
		if err != nil {
			return err
		}
		// Pages go in address order, so the greatest address of the
		// announcement is where the page stopped.
		var last sql.NullString
		if err := db.Get(ctx, tx, &last, `SELECT MAX(email) FROM deliveries WHERE announcement_id = ?`, id); err != nil {
			return fmt.Errorf("last address of the page: %w", err)
		}
		more = n == pageSize
		if !more {
			// A short page ends the audience, unless some of its rows
			// were there already: look past it once to be sure.
			var beyond []string
			if err := db.Select(ctx, tx, &beyond, `SELECT a.email FROM (`+aud.Query+`) a WHERE a.email > ? LIMIT 1`,
				append(append([]any{}, aud.Args...), last.String)...); err != nil {
				return fmt.Errorf("look past the page: %w", err)
			}
			more = len(beyond) > 0
		}
		var after any // NULL: the audience is all in
		if more {
			after = last.String
		}
		if _, err := db.Exec(ctx, tx, `UPDATE announcements SET fanout_after = ? WHERE id = ?`, after, id); err != nil {
			return err
		}
		if a.Status != Sending {
			return nil // paused: resuming enqueues what is pending
		}
		return db.Select(ctx, tx, &chunks, `
			SELECT DISTINCT chunk FROM deliveries WHERE announcement_id = ? AND chunk >= ? AND status = ? ORDER BY chunk`,
			id, first, DeliveryPending)
	})
	if err != nil {
		return nil, false, fmt.Errorf("resolve announcement %d: %w", id, err)
	}
	if !more && len(chunks) == 0 {
		if _, err := l.FinishIfDone(ctx, id); err != nil {
			return nil, false, err
		}
	}
	return chunks, more, nil
}

// insertPage inserts the deliveries of the next pageSize addresses of the
// audience after after, with one INSERT … SELECT, in chunks numbered from
// the first free one. It returns that chunk and how many addresses the
// page held.
func (l *Ledger) insertPage(ctx context.Context, tx *sqlx.Tx, id int64, aud Audience, after string, chunkSize, pageSize int, now time.Time) (first, n int, err error) {
	if err := db.Get(ctx, tx, &first, `SELECT COALESCE(MAX(chunk) + 1, 0) FROM deliveries WHERE announcement_id = ?`, id); err != nil {
		return 0, 0, fmt.Errorf("next chunk: %w", err)
	}
	optOut := aud.OptOut.Column()
	// LEFT JOIN: staff, mailed their console sign-in links, need not be
	// contacts; an address that is one keeps its suppression and opt-outs.
	// WHERE TRUE: SQLite needs a WHERE before ON CONFLICT in an INSERT …
	// SELECT to parse the statement.
	query := `
		INSERT INTO deliveries (announcement_id, email, chunk, status, reason, next_attempt_at, created_at, updated_at)
		SELECT ?, p.email, ? + (ROW_NUMBER() OVER (ORDER BY p.email) - 1) / ?,
			CASE WHEN c.suppressed_at IS NOT NULL OR ` + optOut + ` THEN 'skipped' ELSE 'pending' END,
			CASE WHEN c.suppressed_at IS NOT NULL THEN 'suppressed: ' || c.suppressed_reason
			     WHEN ` + optOut + ` THEN 'opted out' ELSE '' END,
			?, ?, ?
		FROM (SELECT a.email FROM (` + aud.Query + `) a WHERE a.email > ? ORDER BY a.email LIMIT ?) p
		LEFT JOIN contacts c ON c.email = p.email
		WHERE TRUE
		ON CONFLICT (announcement_id, email) DO NOTHING`
	// Placeholders in text order: ours, the audience query's, the page's.
	args := append([]any{id, first, chunkSize, now, now, now}, aud.Args...)
	args = append(args, after, pageSize)
	res, err := db.Exec(ctx, tx, query, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("insert deliveries: %w", err)
	}
	inserted, _ := res.RowsAffected()
	return first, int(inserted), nil
}
