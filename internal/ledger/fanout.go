package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// Resolve turns a due announcement's whole audience into deliveries and
// returns the chunks that have pending deliveries. It is ResolvePage run
// until the audience is in, for callers that do not enqueue as they go.
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

// ResolvePage turns a due announcement's audience into deliveries in two
// transactions, so that the first messages leave while a large audience
// is still being inserted. The first call inserts a first page of up to
// firstPage addresses, the first the database finds (it stops there, so
// the page costs what its rows cost, however large the audience), moves
// the announcement from resolving to sending and reports more when the
// audience may hold others. The next call inserts all the rest with one
// INSERT … SELECT, numbered into chunks after the first page's. Each
// returns the chunks it made that have pending deliveries, while the
// announcement is sending.
//
// Until the rest is in, announcements.fanout_pending is set: the
// announcement cannot be finished, and the reconciler carries on a
// fan-out that stopped. Once it is in, resolving again inserts nothing and
// returns the chunks still pending.
func (l *Ledger) ResolvePage(ctx context.Context, id int64, aud Audience, chunkSize, firstPage int) (chunks []int, more bool, err error) {
	err = l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		chunks, more = nil, false
		now := l.Now()
		// Take the announcement from resolving to sending first: the row
		// lock this takes makes a concurrent cancel wait for this
		// transaction, and then cancel the deliveries it made, instead of
		// being overwritten by it. The rest takes the same lock.
		res, err := db.Exec(ctx, tx, `
			UPDATE announcements SET status = ?, fanout_pending = TRUE, updated_at = ? WHERE id = ? AND status = ?`,
			Sending, now, id, Resolving)
		if err != nil {
			return err
		}
		first := false
		if n, _ := res.RowsAffected(); n == 1 {
			first = true
		} else if _, err := db.Exec(ctx, tx, `UPDATE announcements SET updated_at = ? WHERE id = ? AND fanout_pending`, now, id); err != nil {
			return err
		}
		var a struct {
			Status  Status `db:"status"`
			Pending bool   `db:"fanout_pending"`
		}
		err = db.Get(ctx, tx, &a, `SELECT status, fanout_pending FROM announcements WHERE id = ?`, id)
		if db.IsNoRows(err) {
			return fault.NotFound("announcement %d does not exist", id)
		}
		if err != nil {
			return err
		}
		switch {
		case !a.Pending && a.Status == Sending:
			// Resolved before: what is still pending.
			chunks, err = pendingChunks(ctx, tx, id, 0)
			return err
		case !a.Pending:
			return nil // not yet due, or over
		case a.Status == Cancelled:
			// Nobody more is to be told.
			_, err := db.Exec(ctx, tx, `UPDATE announcements SET fanout_pending = FALSE WHERE id = ?`, id)
			return err
		}
		limit := 0 // the rest: all of it
		if first {
			limit = firstPage
		}
		from, n, err := l.insertPage(ctx, tx, id, aud, chunkSize, limit, now)
		if err != nil {
			return err
		}
		more = first && n == limit
		if first && !more {
			// A page that stopped short (an audience that names an
			// address twice) may have left someone out; the audience is
			// small then, and looking costs little.
			var left []string
			if err := db.Select(ctx, tx, &left, `
				SELECT a.email FROM (`+aud.Query+`) a
				WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.announcement_id = ? AND d.email = a.email) LIMIT 1`,
				append(append([]any{}, aud.Args...), id)...); err != nil {
				return fmt.Errorf("look past the first page: %w", err)
			}
			more = len(left) > 0
		}
		if !more {
			if _, err := db.Exec(ctx, tx, `UPDATE announcements SET fanout_pending = FALSE WHERE id = ?`, id); err != nil {
				return err
			}
		}
		if a.Status != Sending {
			return nil // paused: resuming enqueues what is pending
		}
		chunks, err = pendingChunks(ctx, tx, id, from)
		return err
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

// insertPage inserts the deliveries of the audience not yet inserted (up
// to limit, or all when limit is 0) with one INSERT … SELECT, in chunks of
// chunkSize numbered by address from the first free one, which it returns
// with the number of deliveries inserted.
func (l *Ledger) insertPage(ctx context.Context, tx *sqlx.Tx, id int64, aud Audience, chunkSize, limit int, now time.Time) (first, n int, err error) {
	if err := db.Get(ctx, tx, &first, `SELECT COALESCE(MAX(chunk) + 1, 0) FROM deliveries WHERE announcement_id = ?`, id); err != nil {
		return 0, 0, fmt.Errorf("next chunk: %w", err)
	}
	// The first page takes whatever rows come first, unsorted: LIMIT then
	// stops reading the audience after them. The rest skips the first
	// page's addresses by their conflict (its chunk numbers may have gaps).
	page, args := `(`+aud.Query+`)`, append([]any{}, aud.Args...)
	if limit > 0 {
		page, args = `(SELECT a.email FROM (`+aud.Query+`) a LIMIT ?)`, append(args, limit)
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
		FROM ` + page + ` p
		LEFT JOIN contacts c ON c.email = p.email
		WHERE TRUE
		ON CONFLICT (announcement_id, email) DO NOTHING`
	// Placeholders in text order: ours, then the page's.
	args = append([]any{id, first, chunkSize, now, now, now}, args...)
	res, err := db.Exec(ctx, tx, query, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("insert deliveries: %w", err)
	}
	inserted, _ := res.RowsAffected()
	return first, int(inserted), nil
}

// SendingBegun reports whether a delivery of the announcement has been
// claimed for sending, or sent or failed.
func (l *Ledger) SendingBegun(ctx context.Context, id int64) (bool, error) {
	var found []int
	err := db.Select(ctx, l.db.Read, &found, `
		SELECT 1 FROM deliveries WHERE announcement_id = ? AND status IN (?, ?, ?) LIMIT 1`,
		id, DeliverySending, DeliverySent, DeliveryFailed)
	if err != nil {
		return false, fmt.Errorf("has announcement %d begun sending: %w", id, err)
	}
	return len(found) > 0, nil
}

// pendingChunks returns the chunks of announcement id from chunk from on
// that hold pending deliveries, in order, read from deliveries_due.
func pendingChunks(ctx context.Context, q sqlx.ExtContext, id int64, from int) ([]int, error) {
	var chunks []int
	if err := db.Select(ctx, q, &chunks, pendingChunksQuery, id, from); err != nil {
		return nil, fmt.Errorf("pending chunks of announcement %d: %w", id, err)
	}
	return chunks, nil
}
