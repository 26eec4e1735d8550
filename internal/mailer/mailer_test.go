package mailer_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/mailer"
)

func TestClassify(t *testing.T) {
	t.Parallel()

	t.Run("KeepsAClassifiedError", func(t *testing.T) {
		t.Parallel()
		e := &mailer.Error{Code: 550, Mailbox: true, Err: errors.New("no such user")}
		if got := mailer.Classify(fmt.Errorf("send to ann: %w", e)); got != e {
			t.Errorf("Classify = %+v, want the wrapped %+v", got, e)
		}
	})

	t.Run("UnknownErrorsAreTemporary", func(t *testing.T) {
		t.Parallel()
		for _, err := range []error{errors.New("something broke"), context.Canceled, io.ErrUnexpectedEOF} {
			got := mailer.Classify(err)
			if diff := cmp.Diff(classified{Temporary: true}, classify(err)); diff != "" {
				t.Errorf("%v (-want +got):\n%s", err, diff)
			}
			if !errors.Is(got, err) {
				t.Errorf("Classify(%v) does not wrap it", err)
			}
		}
	})
}

func TestDomain(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		from, want string
	}{
		{from: "Vendor Updates <updates@vendor.test>", want: "vendor.test"},
		{from: "updates@mail.vendor.test", want: "mail.vendor.test"},
		{from: `"Updates, Vendor" <updates@vendor.test>`, want: "vendor.test"},
		{from: "Vendor Updates"},
		{from: "<updates@>"},
		{from: ""},
	} {
		got, err := mailer.Domain(tt.from)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("Domain(%q) = %q, want an error", tt.from, got)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("Domain(%q) = %q, %v; want %q", tt.from, got, err, tt.want)
		}
	}
}

func TestMessage(t *testing.T) {
	t.Parallel()

	t.Run("HeadersAndParts", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{})
		m := message("ann@acme.test")
		m.ToName = "Ann Müller"
		m.Subject = "Jira 1.0 — schnellere Boards"
		m.Headers = [][2]string{
			{"List-Unsubscribe", "<https://vendor.test/u/abc>"},
			{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
		}

		if err := sender.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		got := bundle.server.Messages()
		if len(got) != 1 {
			t.Fatalf("server got %d messages, want 1", len(got))
		}
		if got[0].From != "updates@vendor.test" {
			t.Errorf("envelope sender %q, want updates@vendor.test", got[0].From)
		}
		if diff := cmp.Diff([]string{"ann@acme.test"}, got[0].To); diff != "" {
			t.Errorf("envelope recipients (-want +got):\n%s", diff)
		}
		msg := parse(t, got[0].Raw)
		if diff := cmp.Diff(map[string]string{
			"From":                  "Vendor Updates <updates@vendor.test>",
			"To":                    "Ann Müller <ann@acme.test>",
			"Subject":               "Jira 1.0 — schnellere Boards",
			"Message-Id":            "<release-1.ann.acme.test@vendor.test>",
			"Date":                  "2026-03-14T09:30:00Z",
			"List-Unsubscribe":      "<https://vendor.test/u/abc>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}, headers(t, msg.Header)); diff != "" {
			t.Errorf("headers (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{
			"text/plain": m.Text,
			"text/html":  m.HTML,
		}, parts(t, msg)); diff != "" {
			t.Errorf("parts (-want +got):\n%s", diff)
		}
	})

	t.Run("HeaderInjectionIsDefused", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{})
		const evil = "\r\nBcc: evil@x.test"
		m := message("ann@acme.test")
		m.Subject = "Jira 1.0" + evil
		m.ToName = "Ann" + evil
		m.Headers = [][2]string{{"List-Unsubscribe", "<https://vendor.test/u/abc>" + evil}}

		if err := sender.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		got := bundle.server.Messages()
		if len(got) != 1 {
			t.Fatalf("server got %d messages, want 1", len(got))
		}
		if diff := cmp.Diff([]string{"ann@acme.test"}, got[0].To); diff != "" {
			t.Errorf("envelope recipients (-want +got):\n%s", diff)
		}
		msg := parse(t, got[0].Raw)
		if n := len(msg.Header["Subject"]); n != 1 {
			t.Errorf("%d Subject headers, want 1", n)
		}
		if subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil || subject != m.Subject {
			t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
		}
		for name := range msg.Header {
			if strings.EqualFold(name, "Bcc") {
				t.Errorf("message has a Bcc header: %q", msg.Header[name])
			}
		}
		to, err := msg.Header.AddressList("To")
		if err != nil {
			t.Fatal(err)
		}
		if len(to) != 1 || to[0].Address != "ann@acme.test" {
			t.Errorf("To header %v, want ann@acme.test alone", to)
		}
		for _, line := range strings.Split(string(got[0].Raw), "\r\n") {
			if strings.HasPrefix(strings.ToLower(line), "bcc:") {
				t.Errorf("line %q starts a Bcc header", line)
			}
		}
	})

	t.Run("DisplayNamesArriveAsWritten", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{})
		names := []string{`Ann "the boss" Smith`, "O'Neil, Ann", `Back\slash`, "Zoë (Ops)", "<ann@x.test>", "Ann\r\nSmith"}

		for i, name := range names {
			m := message(fmt.Sprintf("p%d@acme.test", i))
			m.ToName = name
			if err := sender.Send(context.Background(), m); err != nil {
				t.Errorf("%q: %v", name, err)
			}
		}
		var got []string
		for _, m := range bundle.server.Messages() {
			to, err := parse(t, m.Raw).Header.AddressList("To")
			if err != nil || len(to) != 1 {
				t.Fatalf("To %v: %v", to, err)
			}
			got = append(got, to[0].Name)
		}
		if diff := cmp.Diff(names, got); diff != "" {
			t.Errorf("names in To (-want +got):\n%s", diff)
		}
	})

	t.Run("BadAddressesArePermanent", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{})
		bad := []mailer.Message{message("ann@acme.test\r\nBcc: evil@x.test"), message("not an address"), message("ann@acme.test")}
		bad[2].From = "Vendor Updates"

		for _, m := range bad {
			err := sender.Send(context.Background(), m)
			if err == nil {
				t.Errorf("from %q to %q: sent", m.From, m.To)
				continue
			}
			if diff := cmp.Diff(classified{}, classify(err)); diff != "" {
				t.Errorf("from %q to %q: Classify (-want +got):\n%s", m.From, m.To, diff)
			}
		}
		if n := bundle.server.Sessions(); n != 0 {
			t.Errorf("%d connections opened for messages that cannot be sent, want 0", n)
		}
	})
}

// parse reads a received or written message.
func parse(t *testing.T, raw []byte) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%v in:\n%s", err, raw)
	}
	return msg
}

// headers decodes the headers that herald sets; the Date as RFC 3339.
func headers(t *testing.T, h mail.Header) map[string]string {
	t.Helper()
	dec := new(mime.WordDecoder)
	out := map[string]string{}
	for _, name := range []string{"From", "To", "Subject", "Message-Id", "List-Unsubscribe", "List-Unsubscribe-Post"} {
		if len(h[name]) == 0 {
			continue
		}
		if len(h[name]) > 1 {
			t.Errorf("%d %s headers", len(h[name]), name)
		}
		v, err := dec.DecodeHeader(h.Get(name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		out[name] = v
	}
	for _, name := range []string{"From", "To"} {
		if a, err := h.AddressList(name); err == nil && len(a) == 1 {
			out[name] = a[0].Name + " <" + a[0].Address + ">"
			if a[0].Name == "" {
				out[name] = a[0].Address
			}
		}
	}
	if d, err := h.Date(); err == nil {
		out["Date"] = d.UTC().Format(time.RFC3339)
	}
	return out
}

// parts returns the body of each part of a multipart/alternative message by
// content type, or the body of a single-part message.
func parts(t *testing.T, msg *mail.Message) map[string]string {
	t.Helper()
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body, err := io.ReadAll(msg.Body)
		if err != nil {
			t.Fatal(err)
		}
		out[mediaType] = decodeBody(t, msg.Header.Get("Content-Transfer-Encoding"), body)
		return out
	}
	if mediaType != "multipart/alternative" {
		t.Errorf("Content-Type %s, want multipart/alternative", mediaType)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable itself
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		partType, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		out[partType] = decodeBody(t, p.Header.Get("Content-Transfer-Encoding"), body)
	}
}

// decodeBody undoes a transfer encoding and the CRLF line ends of the wire.
func decodeBody(t *testing.T, encoding string, body []byte) string {
	t.Helper()
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		b, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		body = b
	case "base64":
		b, err := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(bytes.ReplaceAll(body, []byte("\r\n"), nil))))
		if err != nil {
			t.Fatal(err)
		}
		body = b
	}
	return strings.TrimRight(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n")
}
