// Package mailer hands messages to the world: over SMTP through a small pool
// of persistent connections, or into an outbox directory of .eml files. It
// builds every message the same way (go-mail), and it says of every failure
// whether trying again later can help.
package mailer

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email to one recipient. Every field that came from a user
// ends up in a header only through go-mail's encoding, never raw.
type Message struct {
	From      string // "Name <address>"
	To        string // address
	ToName    string
	Subject   string
	Text      string
	HTML      string
	MessageID string // without angle brackets
	Date      time.Time
	ReplyTo   string // optional, "Name <address>"
	// ReturnPath, when set, is the envelope sender (MAIL FROM), where
	// bounces go: a signed address per delivery at the bounce domain.
	// Empty sends from From's address.
	ReturnPath string
	// Headers are extra headers such as List-Unsubscribe, in order.
	Headers [][2]string
}

// Sender sends messages. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
	// Probe checks that messages from from (a Message.From) can leave:
	// for SMTP, that the relay takes herald's connection, TLS, credentials
	// and sender.
	Probe(ctx context.Context, from string) error
	Close() error
}

// Error is a failed send, classified.
type Error struct {
	// Temporary failures (4xx replies, network trouble, the relay's own
	// trouble) may succeed later.
	Temporary bool
	// Code is the SMTP reply code, or 0 when there was no reply; Enhanced
	// its RFC 3463 status code ("5.1.1"), when it had one.
	Code     int
	Enhanced string
	// Stage is the step of the conversation that failed.
	Stage Stage
	// Mailbox says the recipient's mailbox does not exist or is disabled:
	// the address takes no mail.
	Mailbox bool
	// Throttled says the relay asks herald to slow down.
	Throttled bool
	// Relay says the relay itself fails, whoever the message is for: it
	// refuses the connection, the TLS mode, the credentials or herald's
	// sender.
	Relay bool
	// Advice says, for a relay error, which setting to change.
	Advice string
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Classify returns err as an *Error. Errors that say nothing of their kind
// count as temporary: retrying is safer than dropping a message.
func Classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Temporary: true, Err: err}
}

// build turns a Message into a go-mail message, DKIM-signed when signer is
// not nil.
func build(m Message, signer *gomail.DKIMSigner) (*gomail.Msg, error) {
	opts := []gomail.MsgOption{gomail.WithNoDefaultUserAgent()}
	if signer != nil {
		opts = append(opts, gomail.WithDKIM(signer))
	}
	msg := gomail.NewMsg(opts...)
	if err := msg.From(m.From); err != nil {
		return nil, &Error{Err: fmt.Errorf("sender %q: %w", m.From, err)}
	}
	to := m.To
	if m.ToName != "" {
		// mail.Address quotes or encodes the name as it needs; go-mail's
		// AddToFormat pastes it between quotes, and a name with a quote
		// or a line break in it made the message unsendable.
		to = (&mail.Address{Name: m.ToName, Address: m.To}).String()
	}
	if err := msg.To(to); err != nil {
		return nil, &Error{Err: fmt.Errorf("recipient %q: %w", m.To, err)}
	}
	if m.ReturnPath != "" {
		if err := msg.EnvelopeFrom(m.ReturnPath); err != nil {
			return nil, &Error{Err: fmt.Errorf("return path %q: %w", m.ReturnPath, err)}
		}
	}
	msg.Subject(m.Subject)
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, &Error{Err: fmt.Errorf("reply-to %q: %w", m.ReplyTo, err)}
		}
	}
	if m.MessageID != "" {
		msg.SetMessageIDWithValue(m.MessageID)
	} else {
		msg.SetMessageID()
	}
	if m.Date.IsZero() {
		msg.SetDate()
	} else {
		msg.SetDateWithValue(m.Date)
	}
	for _, h := range m.Headers {
		msg.SetGenHeader(gomail.Header(h[0]), h[1])
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// Domain returns the domain of a "Name <address>" sender, for Message-IDs.
func Domain(from string) (string, error) {
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return "", err
	}
	_, domain, ok := strings.Cut(addr.Address, "@")
	if !ok || domain == "" {
		return "", fmt.Errorf("%q has no domain", from)
	}
	return domain, nil
}
