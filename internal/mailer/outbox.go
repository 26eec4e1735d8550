package mailer

import (
	"context"
	"fmt"
	"io"

	gomail "github.com/wneessen/go-mail"
	"os"
	"path/filepath"
	"strings"
)

// Outbox writes each message as an .eml file into a directory: herald's
// default transport, so that it runs with no mail server and shows what it
// would have sent. Files are written to a temporary name and renamed, so a
// reader never sees half a message.
type Outbox struct {
	dir  string
	dkim *gomail.DKIMSigner
}

// NewOutbox returns an outbox writing into dir, which it creates; with a
// DKIM signer, files are signed as sent mail would be.
func NewOutbox(dir string, dkim ...*gomail.DKIMSigner) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("outbox %s: %w", dir, err)
	}
	o := &Outbox{dir: dir}
	if len(dkim) > 0 {
		o.dkim = dkim[0]
	}
	return o, nil
}

// Send writes m to DIR/<message-id>.eml. Sending the same message again
// replaces the file: one file per message, as a resend is one message.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return &Error{Temporary: true, Err: err}
	}
	msg, err := build(m, o.dkim)
	if err != nil {
		return err
	}
	name := fileNameFor(m.MessageID)
	tmp, err := os.CreateTemp(o.dir, ".tmp-*.eml")
	if err != nil {
		return &Error{Temporary: true, Err: err}
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if m.ReturnPath != "" {
		if err := writeReturnPath(tmp, msg); err != nil {
			tmp.Close()
			return &Error{Temporary: true, Err: err}
		}
	}
	if _, err := msg.WriteTo(tmp); err != nil {
		tmp.Close()
		return &Error{Temporary: true, Err: err}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return &Error{Temporary: true, Err: err}
	}
	if err := tmp.Close(); err != nil {
		return &Error{Temporary: true, Err: err}
	}
	if err := os.Rename(tmp.Name(), filepath.Join(o.dir, name)); err != nil {
		return &Error{Temporary: true, Err: err}
	}
	return nil
}

// writeReturnPath begins the file with the envelope sender, when the
// message has one of its own, as a
// Return-Path header, as the receiving side's final delivery records it:
// the outbox shows where bounces of the message would go. A DKIM signature
// does not cover it, as it does not cover the one added on delivery.
func writeReturnPath(w io.Writer, msg *gomail.Msg) error {
	from, err := msg.GetSender(false)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "Return-Path: "+from+"\r\n")
	return err
}

// Close does nothing: the outbox holds no connection.
func (o *Outbox) Close() error { return nil }

// Probe checks that the outbox directory takes files; any sender will do.
func (o *Outbox) Probe(context.Context, string) error {
	f, err := os.CreateTemp(o.dir, ".probe-*")
	if err != nil {
		return &Error{Temporary: true, Relay: true, Stage: StageConnect, Err: err,
			Advice: "herald cannot write into HERALD_OUTBOX_DIR " + o.dir}
	}
	f.Close()
	return os.Remove(f.Name())
}

// fileNameFor makes a Message-ID safe as a file name.
func fileNameFor(messageID string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_', r == '@':
			return r
		}
		return '_'
	}, messageID)
	if safe == "" {
		safe = "message"
	}
	return safe + ".eml"
}
