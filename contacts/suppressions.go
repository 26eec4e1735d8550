package contacts

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

// Suppression is why an address stopped taking mail: the SMTP server's
// answer to one delivery, such as a 550 to RCPT TO.
type Suppression struct {
	// Reply is the server's reply as herald recorded it.
	Reply string
	// Code is the SMTP reply code, such as 550; 0 when it is not known
	// (suppressions recorded before herald kept codes).
	Code int
	// Enhanced is the enhanced status code (RFC 3463), such as "5.1.1";
	// empty when the server gave none.
	Enhanced string
	// DeliveryID is the delivery the reply answered; 0 when not known.
	// Retention may have deleted that delivery since.
	DeliveryID int64
}

// SuppressionRecord is a suppression of an address as herald keeps it:
// its cause, when it began, and once lifted, when and by whom.
type SuppressionRecord struct {
	Email string
	Suppression
	SuppressedAt time.Time
	// LiftedAt and LiftedBy are set once the suppression is lifted: by
	// "token:NAME" for the API, "cli:USER" for the command line.
	LiftedAt *time.Time
	LiftedBy string
}

// SuppressionFilter selects current suppressions; an empty Email selects
// every address.
type SuppressionFilter struct {
	Email string
	Page  page.Request
}

// suppressionRow is a suppressed contact with the details of its current
// suppression. The contact's suppressed_at and suppressed_reason decide
// whether an address is suppressed (the audience queries read them); the
// suppressions table adds the code, the enhanced code and the delivery. A
// contact suppressed by a herald older than that table (during an upgrade)
// has no row there, and reads with no code and no delivery.
type suppressionRow struct {
	Email        string        `db:"email"`
	SuppressedAt time.Time     `db:"suppressed_at"`
	Reply        string        `db:"suppressed_reason"`
	Code         int           `db:"suppression_code"`
	Enhanced     string        `db:"suppression_enhanced"`
	DeliveryID   sql.NullInt64 `db:"suppression_delivery_id"`
}

// currentSuppression joins a contact c to its current suppression s, and
// suppressionColumns are what it adds to the contact's columns.
const (
	currentSuppression = ` LEFT JOIN suppressions s ON s.email = c.email AND s.lifted_at IS NULL`
	suppressionColumns = `COALESCE(s.code, 0) AS suppression_code, COALESCE(s.enhanced, '') AS suppression_enhanced, s.delivery_id AS suppression_delivery_id`
)

func (r suppressionRow) record() SuppressionRecord {
	return SuppressionRecord{
		Email: r.Email,
		Suppression: Suppression{
			Reply: r.Reply, Code: r.Code, Enhanced: r.Enhanced, DeliveryID: r.DeliveryID.Int64,
		},
		SuppressedAt: r.SuppressedAt.UTC(),
	}
}

// Suppress marks an address as not taking mail, recording why: later
// announcements skip it until the suppression is lifted. Suppressing an
// address that is suppressed already changes nothing (the first cause is
// kept), nor does suppressing one that is no contact.
func (s *Store) Suppress(ctx context.Context, email string, why Suppression) error {
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error { return s.SuppressIn(ctx, tx, email, why) })
	if err != nil {
		return fmt.Errorf("suppress %s: %w", fault.Shorten(email, 100), err)
	}
	return nil
}

// SuppressIn is Suppress within tx, for a caller that suppresses as part
// of a change of its own (a bounce recorded on its delivery).
func (s *Store) SuppressIn(ctx context.Context, tx *sqlx.Tx, email string, why Suppression) error {
	email, err := s.storedEmail(ctx, tx, "email", email)
	if err != nil {
		return err
	}
	delivery := sql.NullInt64{Int64: why.DeliveryID, Valid: why.DeliveryID != 0}
	now := s.timestamp()
	// The contact's row first, as Unsuppress does: of two concurrent
	// suppressions, the second finds the address suppressed and stops.
	res, err := db.Exec(ctx, tx, `
		UPDATE contacts SET suppressed_at = ?, suppressed_reason = ?, updated_at = ?
		WHERE email = ? AND suppressed_at IS NULL`, now, why.Reply, now, email)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // suppressed already, or no contact
	}
	_, err = db.Exec(ctx, tx, `
		INSERT INTO suppressions (email, reply, code, enhanced, delivery_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, email, why.Reply, why.Code, why.Enhanced, delivery, now)
	return err
}

// Suppressions returns a page of the addresses suppressed now, ordered by
// address.
func (s *Store) Suppressions(ctx context.Context, f SuppressionFilter) (page.Page[SuppressionRecord], error) {
	limit, after, err := f.Page.Decode()
	if err != nil {
		return page.Page[SuppressionRecord]{}, err
	}
	where, args := `c.suppressed_at IS NOT NULL AND c.email > ?`, []any{after}
	if f.Email != "" {
		email, err := s.storedEmail(ctx, s.db, "email", f.Email)
		if err != nil {
			return page.Page[SuppressionRecord]{}, err
		}
		where += ` AND c.email = ?`
		args = append(args, email)
	}
	rows, err := s.suppressions(ctx, s.db.Read, where+` ORDER BY c.email LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return page.Page[SuppressionRecord]{}, fmt.Errorf("list suppressions: %w", err)
	}
	return page.Of(rows, limit, func(r SuppressionRecord) string { return r.Email }), nil
}

func (s *Store) suppressions(ctx context.Context, q sqlx.ExtContext, where string, args ...any) ([]SuppressionRecord, error) {
	var rows []suppressionRow
	err := db.Select(ctx, q, &rows, `
		SELECT c.email, c.suppressed_at, c.suppressed_reason, `+suppressionColumns+`
		FROM contacts c`+currentSuppression+` WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	out := make([]SuppressionRecord, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// Unsuppress lifts the suppression of an address, so that later
// announcements send to it again, and records when and by whom, in the
// suppression (lifted_by, such as "token:ci" or "cli:ann") and in the audit
// log. It returns the suppression as lifted, or a not-found error when the
// address is not suppressed.
func (s *Store) Unsuppress(ctx context.Context, email string, by Actor) (SuppressionRecord, error) {
	email, err := s.storedEmail(ctx, s.db, "email", email)
	if err != nil {
		return SuppressionRecord{}, err
	}
	if by.check() != nil {
		return SuppressionRecord{}, fault.Invalid("by", "is required: who lifts the suppression")
	}
	liftedBy := by.Who()
	notSuppressed := fault.NotFound("%s is not suppressed", email)
	var rec SuppressionRecord
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		found, err := s.suppressions(ctx, tx, `c.suppressed_at IS NOT NULL AND c.email = ?`, email)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return notSuppressed
		}
		now := s.timestamp()
		// Under the contact's row lock, as Suppress: a concurrent lift
		// waits here and then finds nothing to lift.
		res, err := db.Exec(ctx, tx, `
			UPDATE contacts SET suppressed_at = NULL, suppressed_reason = '', updated_at = ?
			WHERE email = ? AND suppressed_at IS NOT NULL`, now, email)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notSuppressed
		}
		rec = found[0]
		rec.LiftedAt, rec.LiftedBy = &now, liftedBy
		if _, err := WriteAudit(ctx, tx, AuditEntry{Action: SuppressionLifted, Email: email, By: by, At: now}); err != nil {
			return err
		}
		res, err = db.Exec(ctx, tx, `
			UPDATE suppressions SET lifted_at = ?, lifted_by = ? WHERE email = ? AND lifted_at IS NULL`, now, liftedBy, email)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Suppressed by an older herald, which kept no record: record
			// the lift all the same.
			_, err = db.Exec(ctx, tx, `
				INSERT INTO suppressions (email, reply, created_at, lifted_at, lifted_by) VALUES (?, ?, ?, ?, ?)`,
				email, rec.Reply, rec.SuppressedAt, now, liftedBy)
		}
		return err
	})
	if err != nil {
		if _, ok := fault.As(err); ok {
			return SuppressionRecord{}, err
		}
		return SuppressionRecord{}, fmt.Errorf("unsuppress %s: %w", email, err)
	}
	return rec, nil
}
