package mailer_test

import (
	"context"
	"net/mail"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/mailer"
)

// TestReturnPath checks that a message's return path is its envelope
// sender, where bounces go, while its From header stays the sender people
// see.
func TestReturnPath(t *testing.T) {
	t.Parallel()
	const rp = "bounces+1-abcdefghijklmnop@bounces.vendor.test"

	t.Run("IsTheEnvelopeSenderOverSMTP", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 1})
		with, without := message("ann@acme.test"), message("bob@acme.test")
		with.ReturnPath = rp

		for _, m := range []mailer.Message{with, without} {
			if err := sender.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]string{}
		for _, m := range bundle.server.Messages() {
			from, err := mail.ParseAddress(m.Header.Get("From"))
			if err != nil {
				t.Fatal(err)
			}
			got[m.To[0]] = m.From + " / " + from.Address
		}
		want := map[string]string{
			"ann@acme.test": rp + " / updates@vendor.test",
			"bob@acme.test": "updates@vendor.test / updates@vendor.test",
		}
		for to, w := range want {
			if got[to] != w {
				t.Errorf("to %s: MAIL FROM / From = %q, want %q", to, got[to], w)
			}
		}
	})

	t.Run("IsAReturnPathHeaderInTheOutbox", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		outbox, err := mailer.NewOutbox(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := message("ann@acme.test")
		m.ReturnPath = rp
		if err := outbox.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		msg := parse(t, readFile(t, filepath.Join(dir, m.MessageID+".eml")))
		if got := msg.Header.Get("Return-Path"); got != "<"+rp+">" {
			t.Errorf("Return-Path %q, want <%s>", got, rp)
		}
		if from, err := mail.ParseAddress(msg.Header.Get("From")); err != nil || from.Address != "updates@vendor.test" {
			t.Errorf("From %q, want updates@vendor.test", msg.Header.Get("From"))
		}
	})

	t.Run("ABadOneIsRefused", func(t *testing.T) {
		t.Parallel()
		outbox, err := mailer.NewOutbox(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		m := message("ann@acme.test")
		m.ReturnPath = "bounces@x.test\r\nBcc: eve@evil.test"
		if err := outbox.Send(context.Background(), m); err == nil || mailer.Classify(err).Temporary {
			t.Errorf("Send with a return path holding a line break = %v, want a permanent error", err)
		}
	})
}
