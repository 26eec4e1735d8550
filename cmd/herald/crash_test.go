package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/smtptest"
)

// TestKilledWorkerLosesNothing kills herald (SIGKILL) while it sends a
// release to 2 000 people and starts it again. Everyone gets the release;
// the only ones who may get it twice are those whose message was in flight
// when the process died (claimed, and not yet recorded), and there are at
// most HERALD_SEND_UNRECORDED of them: the messages handed to the SMTP
// server whose outcome was not yet written.
func TestKilledWorkerLosesNothing(t *testing.T) {
	t.Parallel()
	const people = 2000
	const unrecorded = 16
	smtp := smtptest.Start(t)
	smtp.Data = func(n int, to []string) error {
		time.Sleep(2 * time.Millisecond)
		return nil
	}
	dir := t.TempDir()
	dbURL := migrated(t)
	token := "test-admin-token-0123456789"
	env := []string{
		"HERALD_HTTP_ADDR=127.0.0.1:0",
		"HERALD_DATABASE_URL=" + dbURL,
		"HERALD_ADMIN_TOKEN=" + token,
		"HERALD_SMTP_URL=smtp://127.0.0.1:" + smtp.Port() + "?tls=none",
		"HERALD_FROM=Vendor <updates@vendor.test>",
		"HERALD_WORKER_CONCURRENCY=4",
		fmt.Sprintf("HERALD_SEND_UNRECORDED=%d", unrecorded),
		"HERALD_SEND_LEASE=2s",
		"HERALD_RECONCILE_INTERVAL=1s",
	}

	var csv strings.Builder
	csv.WriteString("license_id,product,license_name,email,name,role,main\n")
	for i := range people {
		fmt.Fprintf(&csv, "L-%d,jira,Customer %d,p%04d@acme.test,Person %d,technical,\n", i%100, i%100, i, i)
	}
	file := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, env, "import", file); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}

	p := serve(t, dir, env...)
	status, body := call(t, "POST", "http://"+p.addr+"/api/v1/releases", token, `{"product":"jira","version":"9.4.0"}`)
	if status != http.StatusCreated {
		t.Fatalf("release: %d %s", status, body)
	}
	var created struct {
		AnnouncementID int64 `json:"announcement_id"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	if !apptest.Eventually(60*time.Second, func() bool { return smtp.Accepted() >= 500 }) {
		t.Fatalf("only %d messages after 60s", smtp.Accepted())
	}
	p.kill(t)
	killedAt := smtp.Accepted()

	// What was in flight: claimed and not recorded when the process died.
	ctx := context.Background()
	d, err := db.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var inFlight []string
	if err := db.Select(ctx, d, &inFlight, `SELECT email FROM deliveries WHERE status = 'sending'`); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after %d messages with %d in flight", killedAt, len(inFlight))
	// Claimed are up to a batch a worker; of those, at most unrecorded
	// were handed to the SMTP server.
	if len(inFlight) > 4*100 {
		t.Errorf("%d deliveries claimed with 4 workers; a worker claims a batch of 100 at a time", len(inFlight))
	}

	p = serve(t, dir, env...)
	announcement := fmt.Sprintf("http://%s/api/v1/announcements/%d", p.addr, created.AnnouncementID)
	if !apptest.Eventually(90*time.Second, func() bool {
		_, body = call(t, "GET", announcement, token, "")
		return strings.Contains(body, `"status":"done"`)
	}) {
		t.Fatalf("not done 90s after the restart: %s", body)
	}
	p.stop(t)

	allowed := map[string]bool{}
	for _, e := range inFlight {
		allowed[e] = true
	}
	per := smtp.PerRecipient()
	if len(per) != people {
		t.Errorf("%d of %d people got the release", len(per), people)
	}
	twice := 0
	for email, n := range per {
		if n > 1 {
			twice++
			if !allowed[email] || n > 2 {
				t.Errorf("%s got %d messages but was not in flight at the kill", email, n)
			}
		}
	}
	if twice > unrecorded {
		t.Errorf("%d people got two messages, want at most HERALD_SEND_UNRECORDED=%d", twice, unrecorded)
	}
	t.Logf("%d messages in all, %d people got two (of %d claimed; at most %d may)", smtp.Accepted(), twice, len(inFlight), unrecorded)
}
