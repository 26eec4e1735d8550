// Package ledger is the source of truth of what herald sends: announcements
// (one thing to tell a set of people) and their deliveries (one email to one
// address), with the delivery state machine
//
//	pending → sending → sent | failed | pending (retry later)
//	sent → bounced (a bounce came back; Bounces.Record)
//	pending → skipped | cancelled
//	failed → pending | skipped (retry-failed; skipped when the contact is suppressed)
//
// Redis only carries work; every worker acts on rows here that are still
// pending, so running a task twice sends nothing twice.
package ledger

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/db"
)

// Kind is what an announcement is about: release, broadcast… Each kind is
// defined, with its audience and its messages, in package kinds; the ledger
// treats them all alike.
type Kind string

// Status is where an announcement is in its life.
type Status string

const (
	// Scheduled waits for its send_at.
	Scheduled Status = "scheduled"
	// Resolving is due: its audience is being turned into deliveries.
	Resolving Status = "resolving"
	// Sending has its deliveries and sends them.
	Sending Status = "sending"
	// Paused takes no delivery until it is resumed: paused by the relay
	// (it resumes by itself once the relay works) or by hand.
	Paused Status = "paused"
	// Done has every delivery sent, failed, skipped or cancelled.
	Done Status = "done"
	// Cancelled was stopped; its pending deliveries were cancelled.
	Cancelled Status = "cancelled"
)

// DeliveryStatus is where one email is.
type DeliveryStatus string

const (
	// DeliveryPending waits to be claimed, from its next attempt time on.
	DeliveryPending DeliveryStatus = "pending"
	// DeliverySending is claimed by a worker until its lease runs out.
	DeliverySending DeliveryStatus = "sending"
	// DeliverySent was accepted by the SMTP server.
	DeliverySent DeliveryStatus = "sent"
	// DeliveryFailed will not be sent; LastError says why.
	DeliveryFailed DeliveryStatus = "failed"
	// DeliverySkipped was not sent on purpose; Reason says why.
	DeliverySkipped DeliveryStatus = "skipped"
	// DeliveryCancelled was pending when its announcement was cancelled.
	DeliveryCancelled DeliveryStatus = "cancelled"
	// DeliveryBounced was sent, and then came back: the receiving side
	// refused it after the relay took it. Reason says how.
	DeliveryBounced DeliveryStatus = "bounced"
)

// Announcement is one thing to tell a set of people.
type Announcement struct {
	ID         int64      `db:"id"`
	Kind       Kind       `db:"kind"`
	DedupeKey  string     `db:"dedupe_key"`
	Template   string     `db:"template"`
	Subject    string     `db:"subject"`
	Params     JSON       `db:"params"`
	Audience   JSON       `db:"audience"`
	SendAt     time.Time  `db:"send_at"`
	Status     Status     `db:"status"`
	CreatedAt  time.Time  `db:"created_at"`
	UpdatedAt  time.Time  `db:"updated_at"`
	FinishedAt *time.Time `db:"finished_at"`
	// Archived holds the final counts once retention has deleted the
	// deliveries.
	Archived JSON `db:"archived_counts"`
	// A paused announcement says why, who paused it (PausedByRelay, or
	// who did by hand), and the status it resumes to.
	PausedReason string `db:"paused_reason"`
	PausedBy     string `db:"paused_by"`
	PausedFrom   Status `db:"paused_from"`
	// HardBounces and Complaints count what came back (Bounces.Record).
	HardBounces int    `db:"hard_bounces"`
	Complaints  int    `db:"complaints"`
	Counts      Counts `db:"-"`
}

// JSON is a JSON document kept in a text column.
type JSON []byte

// Scan reads the column, which drivers return as a string or bytes.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case string:
		*j = JSON(v)
	case []byte:
		*j = append(JSON(nil), v...)
	case nil:
		*j = nil
	default:
		return fmt.Errorf("ledger.JSON cannot hold a %T", src)
	}
	return nil
}

// Counts are an announcement's deliveries by status.
type Counts struct {
	Recipients int `json:"recipients"`
	Pending    int `json:"pending"`
	Sending    int `json:"sending"`
	Sent       int `json:"sent"`
	Failed     int `json:"failed"`
	Skipped    int `json:"skipped"`
	Cancelled  int `json:"cancelled"`
	// Bounced were sent and came back; Complained were sent, and their
	// recipients marked them as spam (they are counted as sent or bounced
	// too).
	Bounced    int `json:"bounced"`
	Complained int `json:"complained"`
}

// Delivery is one email to one address for one announcement.
type Delivery struct {
	ID             int64          `db:"id"`
	AnnouncementID int64          `db:"announcement_id"`
	Email          string         `db:"email"`
	Chunk          int            `db:"chunk"`
	Status         DeliveryStatus `db:"status"`
	Reason         string         `db:"reason"`
	Attempts       int            `db:"attempts"`
	NextAttemptAt  time.Time      `db:"next_attempt_at"`
	LastError      string         `db:"last_error"`
	MessageID      string         `db:"message_id"`
	SentAt         *time.Time     `db:"sent_at"`
	// ComplainedAt is when its recipient first marked it as spam, if
	// they did.
	ComplainedAt *time.Time `db:"complained_at"`
}

// Ledger stores announcements and deliveries.
type Ledger struct {
	db  *db.DB
	now func() time.Time
}

// New returns the ledger on d; now is the clock.
func New(d *db.DB, now func() time.Time) *Ledger { return &Ledger{db: d, now: now} }

// Now is the ledger's clock, in UTC at the precision both databases keep.
func (l *Ledger) Now() time.Time { return l.now().UTC().Truncate(time.Microsecond) }
