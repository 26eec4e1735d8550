// Package bounce is what herald learns from the mail that comes back: the
// events (bounces, delays, complaints) that delivery status notifications,
// feedback-loop reports and the sending services' webhooks carry, and the
// signed references in each message that tie such an event to the exact
// delivery that caused it. Nothing that cannot be verified becomes an
// Event.
package bounce

import (
	"context"
	"time"
)

// Kind is what happened to a message after the relay took it.
type Kind string

// The kinds of event.
const (
	// Hard: the receiving side refused the message for good (a 5.x.x
	// status, "failed").
	Hard Kind = "hard"
	// Soft: the receiving side gave up on the message for a reason that
	// may pass (a 4.x.x status with action "failed": a full mailbox, a
	// server down for days).
	Soft Kind = "soft"
	// Delay: the message is late but still being tried ("delayed").
	Delay Kind = "delay"
	// Complaint: the recipient marked the message as spam (an ARF report
	// of feedback-type abuse, or a provider's complaint event).
	Complaint Kind = "complaint"
)

// Kinds are every kind, for validation and tests.
var Kinds = []Kind{Hard, Soft, Delay, Complaint}

// Event is one thing learnt about one message herald sent.
type Event struct {
	Kind Kind
	// Delivery is the delivery the message was for, from a verified
	// reference (the signed return path or Message-ID).
	Delivery int64
	// Recipient is the address the report is about, when it says one; the
	// ledger checks it against the delivery's.
	Recipient string
	// Code is the RFC 3463 enhanced status code ("5.1.1"), when given.
	Code string
	// Diagnostic is the remote server's or provider's words, at most
	// MaxDiagnostic bytes.
	Diagnostic string
	// Mailbox says the code or the diagnostic means the mailbox does not
	// exist or takes no mail, as for an SMTP reply (mailer.Classify): a
	// hard bounce that says so suppresses the address.
	Mailbox bool
	// Source says where the event came from: "smtp" (the inbound server),
	// "imap", "postmark", "sendgrid", "mailgun" or "ses".
	Source string
	// EventID is unique per source for one event: the provider's event
	// id, or for a report by mail its Message-ID (a hash of the message
	// when it has none). A repeat is applied once.
	EventID string
	// At is when it happened, as the report says; zero means now.
	At time.Time
}

// MaxDiagnostic bounds an event's diagnostic.
const MaxDiagnostic = 1000

// Sink applies events: the ledger records them on their deliveries.
type Sink interface {
	// Record applies e once. A repeat (the same Source and EventID) or an
	// event whose delivery or recipient does not match changes nothing and
	// says so with applied false and a reason; err is for failures only
	// (the database).
	Record(ctx context.Context, e Event) (applied bool, reason string, err error)
}
