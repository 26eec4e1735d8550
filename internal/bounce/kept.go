package bounce

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

// Bounds on the mail kept for inspection.
const (
	// KeptMax is how many messages are kept at most; the oldest go first.
	KeptMax = 1000
	// KeptFor is how long a message is kept at most.
	KeptFor = 30 * 24 * time.Hour
)

// KeptMessage is a message the inbound server took but could not parse or
// verify, or whose events the ledger did not apply.
type KeptMessage struct {
	ID         int64     `db:"id" json:"id"`
	ReceivedAt time.Time `db:"received_at" json:"received_at"`
	// MailFrom and RcptTo are its envelope; RcptTo is comma-separated.
	MailFrom string `db:"mail_from" json:"mail_from"`
	RcptTo   string `db:"rcpt_to" json:"rcpt_to"`
	Size     int    `db:"size" json:"size"`
	Format   Format `db:"format" json:"format"`
	Reason   string `db:"reason" json:"reason"`
	// Raw is the message, only from KeptStore.Raw.
	Raw []byte `db:"raw" json:"-"`
}

// KeptStore keeps messages for inspection, within KeptMax and KeptFor.
type KeptStore struct {
	db  *db.DB
	now func() time.Time
}

// NewKeptStore returns the store on d, reading the time from now (the
// app's clock; time.Now when nil).
func NewKeptStore(d *db.DB, now func() time.Time) *KeptStore {
	if now == nil {
		now = time.Now
	}
	return &KeptStore{db: d, now: now}
}

// Keep stores m (its ReceivedAt is now), then prunes what is past the
// bounds, in one transaction: the table never holds more than KeptMax
// messages, nor any older than KeptFor.
func (s *KeptStore) Keep(ctx context.Context, m KeptMessage) (int64, error) {
	if len(m.Raw) > MaxMessageBytes {
		return 0, fault.Invalid("raw", "is larger than %d bytes", MaxMessageBytes)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	var id int64
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.Get(ctx, tx, &id, `INSERT INTO inbound_kept (received_at, mail_from, rcpt_to, size, format, reason, raw)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			now, clip(m.MailFrom, 300), clip(m.RcptTo, 3000), len(m.Raw), string(m.Format), clip(m.Reason, 1000), m.Raw); err != nil {
			return err
		}
		_, err := db.Exec(ctx, tx, `DELETE FROM inbound_kept WHERE received_at < ? OR id <= (
			SELECT id FROM inbound_kept ORDER BY id DESC LIMIT 1 OFFSET ?)`, now.Add(-KeptFor), KeptMax)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("keep an inbound message: %w", err)
	}
	return id, nil
}

// List returns a page of the kept messages, newest first, without their
// raw text.
func (s *KeptStore) List(ctx context.Context, req page.Request) (page.Page[KeptMessage], error) {
	limit, after, err := req.DecodeID()
	if err != nil {
		return page.Page[KeptMessage]{}, err
	}
	where := `TRUE`
	args := []any{}
	if after > 0 {
		where, args = `id < ?`, append(args, after)
	}
	var rows []KeptMessage
	if err := db.Select(ctx, s.db.Read, &rows, `SELECT id, received_at, mail_from, rcpt_to, size, format, reason
		FROM inbound_kept WHERE `+where+` ORDER BY id DESC LIMIT ?`, append(args, limit+1)...); err != nil {
		return page.Page[KeptMessage]{}, fmt.Errorf("list kept inbound messages: %w", err)
	}
	for i := range rows {
		rows[i].ReceivedAt = rows[i].ReceivedAt.UTC()
	}
	return page.OfID(rows, limit, func(m KeptMessage) int64 { return m.ID }), nil
}

// Get returns one kept message with its raw text.
func (s *KeptStore) Get(ctx context.Context, id int64) (KeptMessage, error) {
	var m KeptMessage
	err := db.Get(ctx, s.db.Read, &m, `SELECT id, received_at, mail_from, rcpt_to, size, format, reason, raw
		FROM inbound_kept WHERE id = ?`, id)
	if db.IsNoRows(err) {
		return m, fault.NotFound("kept inbound message %d not found", id)
	}
	if err != nil {
		return m, fmt.Errorf("read kept inbound message %d: %w", id, err)
	}
	m.ReceivedAt = m.ReceivedAt.UTC()
	return m, nil
}

// clip bounds a text column.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
