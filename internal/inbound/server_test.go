package inbound_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/inbound"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/page"
)

const domain = "bounces.vendor.test"

type smtpBundle struct {
	addr    string
	refs    *bounce.Refs
	sink    *apptest.Bounces
	kept    *bounce.KeptStore
	metrics *metrics.Metrics
	fill    *strings.Replacer
}

func setupSMTP(t *testing.T, database dbtest.Database, maxConns int) *smtpBundle {
	t.Helper()
	refs, err := bounce.NewRefs([]byte("a secret of thirty-two bytes or more"), domain)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := bounce.NewRefs([]byte("another secret of thirty-two bytes"), domain)
	b := &smtpBundle{refs: refs, sink: &apptest.Bounces{}, kept: bounce.NewKeptStore(database.Open(t), nil), metrics: metrics.New()}
	b.fill = strings.NewReplacer("{{RP}}", refs.ReturnPath(42), "{{MID}}", refs.MessageID(42, 7, "vendor.test"),
		"{{FORGED_RP}}", forged.ReturnPath(42), "{{FORGED_MID}}", forged.MessageID(42, 7, "vendor.test"))
	srv, err := inbound.New(inbound.Config{Domain: domain, MaxConnections: maxConns, Timeout: 5 * time.Second}, inbound.Deps{
		Refs: refs, Sink: b.sink, Kept: b.kept, Metrics: b.metrics, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return b
}

// fixture reads a message of the bounce package's testdata, with the
// references filled in.
func (b *smtpBundle) fixture(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "bounce", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(b.fill.Replace(string(raw)), "\n", "\r\n"))
}

// send sends raw from the null sender to rcpt, as a bounce comes, through
// a real SMTP client, and returns the server's refusal if there is one.
func (b *smtpBundle) send(t *testing.T, rcpt string, raw []byte) error {
	t.Helper()
	c, err := smtp.Dial(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(""); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func (b *smtpBundle) allKept(t *testing.T) []bounce.KeptMessage {
	t.Helper()
	p, err := b.kept.List(context.Background(), page.Request{Limit: page.MaxSize})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func code(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	return 0
}

func (b *smtpBundle) counted(t *testing.T, outcome string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	b.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	prefix := `herald_inbound_messages_total{outcome="` + outcome + `"} `
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	return 0
}

func TestServer(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("ABounceBecomesAnEvent", func(t *testing.T) {
			b := setupSMTP(t, database, 0)
			if err := b.send(t, strings.ToUpper(b.refs.ReturnPath(42)), b.fixture(t, "postfix-hard.eml")); err != nil {
				t.Fatal(err)
			}
			got := b.sink.Events()
			if len(got) != 1 || got[0].Kind != bounce.Hard || got[0].Delivery != 42 || got[0].Source != "smtp" || !got[0].Mailbox || got[0].Code != "5.1.1" {
				t.Fatalf("recorded %+v, want one hard bounce of delivery 42 from smtp", got)
			}
			if k := b.allKept(t); len(k) != 0 {
				t.Errorf("%d messages kept, want none", len(k))
			}
			if n := b.counted(t, "applied"); n != 1 {
				t.Errorf("applied counted %d, want 1", n)
			}
		})

		t.Run("AComplaintToTheFeedbackLoopAddress", func(t *testing.T) {
			b := setupSMTP(t, database, 0)
			if err := b.send(t, "fbl@"+domain, b.fixture(t, "yahoo-arf.eml")); err != nil {
				t.Fatal(err)
			}
			if got := b.sink.Events(); len(got) != 1 || got[0].Kind != bounce.Complaint || got[0].Delivery != 42 {
				t.Fatalf("recorded %+v, want one complaint about delivery 42", got)
			}
		})

		t.Run("NoRelay", func(t *testing.T) {
			b := setupSMTP(t, database, 0)
			for _, rcpt := range []string{"ann@acme.test", "bounces+1-x@" + domain + ".evil.test", "someone@vendor.test", "ann@BOUNCES.vendor.test.", "x@sub." + domain} {
				if err := b.send(t, rcpt, b.fixture(t, "postfix-hard.eml")); code(err) != 550 {
					t.Errorf("RCPT TO %s: %v, want 550", rcpt, err)
				}
			}
			if got := b.sink.Events(); len(got) != 0 {
				t.Errorf("recorded %+v", got)
			}
		})

		t.Run("OversizedIsRefused", func(t *testing.T) {
			b := setupSMTP(t, database, 0)
			raw := append(b.fixture(t, "postfix-hard.eml"), []byte(strings.Repeat("x", 998)+"\r\n")...)
			for len(raw) <= bounce.MaxMessageBytes {
				raw = append(raw, raw[len(raw)-1000:]...)
			}
			if err := b.send(t, b.refs.ReturnPath(42), raw); code(err) != 552 {
				t.Fatalf("a message over 5 MiB: %v, want 552", err)
			}
			if len(b.sink.Events()) != 0 || len(b.allKept(t)) != 0 {
				t.Error("an oversized message was recorded or kept")
			}
			if n := b.counted(t, "too_large"); n != 1 {
				t.Errorf("too_large counted %d, want 1", n)
			}
			// The server still works.
			if err := b.send(t, b.refs.ReturnPath(42), b.fixture(t, "postfix-hard.eml")); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("UnverifiableIsKeptAndCounted", func(t *testing.T) {
			b := setupSMTP(t, database, 0)
			for _, m := range []struct{ rcpt, file string }{
				{"{{FORGED_RP}}", "forged-signature.eml"},
				{"postmaster@" + domain, "not-a-bounce.eml"},
			} {
				raw := b.fixture(t, m.file)
				if err := b.send(t, b.fill.Replace(m.rcpt), raw); err != nil {
					t.Fatalf("%s: %v", m.file, err)
				}
			}
			if got := b.sink.Events(); len(got) != 0 {
				t.Errorf("recorded %+v from forged or unverifiable mail", got)
			}
			kept := b.allKept(t)
			if len(kept) != 2 {
				t.Fatalf("%d messages kept, want 2", len(kept))
			}
			forged, other := kept[1], kept[0] // newest first
			if forged.Format != bounce.DSN || !strings.HasPrefix(forged.Reason, "no verified reference") || forged.MailFrom != "" || forged.RcptTo != b.fill.Replace("{{FORGED_RP}}") {
				t.Errorf("kept %+v, want the forged DSN with its reason and envelope", forged)
			}
			full, err := b.kept.Get(context.Background(), other.ID)
			if err != nil {
				t.Fatal(err)
			}
			if string(full.Raw) != string(b.fixture(t, "not-a-bounce.eml")) || full.Size != len(full.Raw) || full.Format != bounce.Unknown {
				t.Errorf("kept %q (%d bytes, %s), want the message as sent", full.Raw, full.Size, full.Format)
			}
			if n := b.counted(t, "kept"); n != 2 {
				t.Errorf("kept counted %d, want 2", n)
			}
		})

		t.Run("ADatabaseFailureAsksTheSenderToRetry", func(t *testing.T) {
			b := setupSMTP(t, database, 0)
			b.sink.Fail(errors.New("database is down"))
			if err := b.send(t, b.refs.ReturnPath(42), b.fixture(t, "postfix-hard.eml")); code(err) != 451 {
				t.Fatalf("with the sink failing: %v, want 451", err)
			}
			if len(b.allKept(t)) != 0 {
				t.Error("a message the sender will send again was kept")
			}
		})

		t.Run("ConnectionsAreCapped", func(t *testing.T) {
			b := setupSMTP(t, database, 2)
			var open []*smtp.Client
			for range 2 {
				c, err := smtp.Dial(b.addr)
				if err != nil {
					t.Fatal(err)
				}
				open = append(open, c)
			}
			nc, err := net.Dial("tcp", b.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, err := nc.Read(make([]byte, 1)); err == nil {
				t.Fatal("a third connection was greeted while two were open")
			}
			open[0].Close()
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := nc.Read(make([]byte, 3)); err != nil {
				t.Errorf("the third connection is not greeted once one closed: %v", err)
			}
			open[1].Close()
		})
	})
}
