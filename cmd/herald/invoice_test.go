package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/smtptest"
)

// TestInvoiceRemindQueuesTheReminders makes a reminder from the shell while
// a "herald worker" (no scheduler, so no reconciler) runs on the same
// database and Redis: the reminder reaches the SMTP server only if the
// command queued it itself. With a Redis out of reach it is left for the
// reconciler, as it was before.
func TestInvoiceRemindQueuesTheReminders(t *testing.T) {
	t.Parallel()
	smtp := smtptest.Start(t)
	// A Redis of this test's own: the CLI and the worker use herald's
	// default queue name, which no other test may share.
	redis, err := queue.StartEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(redis.Close)
	dir := t.TempDir()
	env := []string{
		"HERALD_DATABASE_URL=" + migrated(t),
		"HERALD_REDIS_URL=" + redis.URL(),
		"HERALD_SMTP_URL=smtp://127.0.0.1:" + smtp.Port() + "?tls=none",
	}
	today := time.Now().UTC().Format("2006-01-02")
	contactsCSV, invoicesCSV := filepath.Join(dir, "contacts.csv"), filepath.Join(dir, "invoices.csv")
	if err := os.WriteFile(contactsCSV, []byte("license_id,product,license_name,email,name,role,main\nSEN-1,jira,Acme,bill@acme.test,Bill,billing,true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(invoicesCSV, []byte("number,license_id,amount_minor,currency,due_date\nINV-1,SEN-1,125000,EUR,"+today+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"import", contactsCSV}, {"invoice", "import", invoicesCSV}} {
		if code, out, errOut := run(t, env, args...); code != 0 {
			t.Fatalf("herald %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
	}

	t.Run("RedisOutOfReach", func(t *testing.T) {
		// Nothing listens on port 1: the reminder of a week before the due
		// date is made and left for the reconciler, which no process here
		// runs.
		unreachable := append(env[:len(env):len(env)], "HERALD_REDIS_URL=redis://127.0.0.1:1")
		code, out, errOut := run(t, unreachable, "invoice", "remind", "--as-of", addDays(t, today, -7))
		if code != 0 || !strings.Contains(out, "1 reminders made; Redis cannot be reached, so a running herald on this database sends them within 15s\n") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	t.Run("RedisReached", func(t *testing.T) {
		worker := exec.Command(herald(t), "worker")
		worker.Dir, worker.Env = dir, env
		var log syncBuffer
		worker.Stdout, worker.Stderr = &log, &log
		if err := worker.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = worker.Process.Kill(); _ = worker.Wait() })

		code, out, errOut := run(t, env, "invoice", "remind", "--as-of", today)
		if code != 0 || !strings.HasSuffix(out, "1 reminders made; queued for the workers\n") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		apptest.WaitFor(t, 20*time.Second, "the reminder to reach bill@acme.test", func() bool {
			return smtp.PerRecipient()["bill@acme.test"] == 1
		})
		if code, out, _ := run(t, env, "invoice", "remind", "--as-of", today); code != 0 || out != "no reminders are due\n" {
			t.Errorf("again for the same day: exit %d, stdout %q", code, out)
		}
		if t.Failed() {
			t.Logf("herald worker:\n%s", log.String())
		}
	})
}

// addDays returns the day n days after day (YYYY-MM-DD).
func addDays(t *testing.T, day string, n int) string {
	t.Helper()
	d, err := time.Parse("2006-01-02", day)
	if err != nil {
		t.Fatal(err)
	}
	return d.AddDate(0, 0, n).Format("2006-01-02")
}
