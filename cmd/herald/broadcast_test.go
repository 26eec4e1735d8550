package main_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/smtptest"
)

// broadcastBundle is a migrated database with two technical contacts of
// jira and a broadcast body on disk.
type broadcastBundle struct {
	dbURL string
	env   []string
	body  string
	smtp  *smtptest.Server
}

func setupBroadcast(t *testing.T) *broadcastBundle {
	t.Helper()
	b := &broadcastBundle{dbURL: migrated(t), smtp: smtptest.Start(t)}
	b.env = []string{"HERALD_DATABASE_URL=" + b.dbURL, "HERALD_SMTP_URL=smtp://127.0.0.1:" + b.smtp.Port() + "?tls=none"}
	dir := t.TempDir()
	csv := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(csv, []byte("license_id,product,license_name,email,name,role,main\n"+
		"SEN-1,jira,Acme,ann@acme.test,Ann,technical,true\n"+
		"SEN-2,jira,Beta,bob@beta.test,Bob,technical,true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, b.env, "import", csv); code != 0 {
		t.Fatalf("import: exit %d: %s%s", code, out, errOut)
	}
	b.body = filepath.Join(dir, "body.md")
	if err := os.WriteFile(b.body, []byte("Maintenance **tonight**, from 22:00.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

// announcements counts what the database holds.
func (b *broadcastBundle) announcements(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, b.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := db.Get(ctx, d, &n, `SELECT COUNT(*) FROM announcements`); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBroadcastFromTheShell(t *testing.T) {
	t.Parallel()

	t.Run("DryRunShowsCountSampleAndText", func(t *testing.T) {
		t.Parallel()
		b := setupBroadcast(t)
		dir := t.TempDir()
		// No HERALD_SMTP_URL: a dry run must not make the outbox either.
		code, out, errOut := runIn(t, dir, []string{"HERALD_DATABASE_URL=" + b.dbURL},
			"broadcast", "send", "--subject", "Maintenance", "--body-file", b.body, "--products", "jira", "--dry-run")
		if code != 0 {
			t.Fatalf("exit %d: %s%s", code, out, errOut)
		}
		for _, want := range []string{
			"2 recipients (0 more opted out or suppressed), for example:\n  ann@acme.test\n  bob@beta.test\n",
			"As ann@acme.test would get it (nothing was stored or sent):\n\nSubject: Maintenance\n\n",
			"Maintenance **tonight**, from 22:00.",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("stdout lacks %q:\n%s", want, out)
			}
		}
		if n := b.announcements(t); n != 0 {
			t.Errorf("a dry run stored %d announcements", n)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("a dry run left %v in the working directory", entries)
		}
		if n := b.smtp.Accepted(); n != 0 {
			t.Errorf("a dry run sent %d messages", n)
		}
	})

	t.Run("TestSendsToTheGivenAddressesOnly", func(t *testing.T) {
		t.Parallel()
		b := setupBroadcast(t)
		code, out, errOut := run(t, b.env, "broadcast", "test", "--subject", "Maintenance", "--body-file", b.body,
			"--to", "Me@Vendor.test", "--to", "ops@vendor.test")
		if want := "sent the test to me@vendor.test\nsent the test to ops@vendor.test\n"; code != 0 || out != want {
			t.Fatalf("exit %d, stdout %q (stderr %q); want %q", code, out, errOut, want)
		}
		msgs := b.smtp.Messages()
		if len(msgs) != 2 {
			t.Fatalf("%d messages reached the SMTP server, want 2", len(msgs))
		}
		for _, m := range msgs {
			if got := m.Header.Get("Subject"); got != "[TEST] Maintenance" {
				t.Errorf("subject to %v = %q", m.To, got)
			}
			if text, _ := m.MustParts(t); !strings.Contains(text, "Maintenance **tonight**") {
				t.Errorf("text to %v:\n%s", m.To, text)
			}
		}
		if pr := b.smtp.PerRecipient(); pr["me@vendor.test"] != 1 || pr["ops@vendor.test"] != 1 {
			t.Errorf("per recipient: %v", pr)
		}
		if n := b.announcements(t); n != 0 {
			t.Errorf("a test send stored %d announcements", n)
		}
	})

	t.Run("TestRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setupBroadcast(t)
		many := []string{"broadcast", "test", "--subject", "Maintenance", "--body-file", b.body}
		for range 21 {
			many = append(many, "--to", "me@vendor.test")
		}
		for _, tt := range []struct {
			name   string
			args   []string
			stderr string
		}{
			{"NoAddress", []string{"broadcast", "test", "--subject", "Maintenance", "--body-file", b.body},
				"herald: error: missing flags: --to=ADDRESS,...\n"},
			{"NotAnAddress", []string{"broadcast", "test", "--subject", "Maintenance", "--body-file", b.body, "--to", "me"},
				"herald: --to: \"me\" is not an email address\n"},
			{"TooMany", many, "herald: --to: 21 addresses; a test goes to at most 20\n"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				code, _, errOut := run(t, b.env, tt.args...)
				if code == 0 || errOut != tt.stderr {
					t.Errorf("exit %d, stderr %q; want non-zero and %q", code, errOut, tt.stderr)
				}
			})
		}
		if n := b.smtp.Accepted(); n != 0 {
			t.Errorf("refused tests sent %d messages", n)
		}
	})
}
