package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/smtptest"
)

// TestReleaseAnnounceWait announces from the shell while "herald serve"
// runs on the same database: the command waits for the end and its exit
// status says whether every delivery went out.
func TestReleaseAnnounceWait(t *testing.T) {
	t.Parallel()
	smtp := smtptest.Start(t)
	smtp.Rcpt = func(to string) error {
		if strings.HasPrefix(to, "bad@") {
			return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user")
		}
		return nil
	}
	dir := t.TempDir()
	env := []string{
		"HERALD_HTTP_ADDR=127.0.0.1:0",
		"HERALD_DATABASE_URL=" + migrated(t),
		"HERALD_SMTP_URL=smtp://127.0.0.1:" + smtp.Port() + "?tls=none",
		"HERALD_RECONCILE_INTERVAL=1s",
	}
	csv := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(csv, []byte("license_id,product,license_name,email,name,role,main\n"+
		"SEN-1,jira,Acme,ann@acme.test,Ann,technical,true\n"+
		"SEN-2,bamboo,Beta,bad@beta.test,Bad,technical,true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, env, "import", csv); code != 0 {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	p := serve(t, dir, env...)
	defer p.stop(t)

	notes := filepath.Join(dir, "notes.md")
	if err := os.WriteFile(notes, []byte("* Faster boards\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, env, "release", "announce", "--product", "jira", "--version", "9.4.0", "--notes-file", notes, "--wait")
	if code != 0 || !strings.Contains(out, "done: 1 recipients, 1 sent, 0 failed") {
		t.Errorf("announce jira: exit %d\n%s%s", code, out, errOut)
	}
	if smtp.PerRecipient()["ann@acme.test"] != 1 {
		t.Errorf("ann got %d messages", smtp.PerRecipient()["ann@acme.test"])
	}

	code, out, errOut = run(t, env, "release", "announce", "--product", "bamboo", "--version", "1.0", "--wait")
	if code == 0 || !strings.Contains(errOut, "1 deliveries failed") {
		t.Errorf("announce bamboo with a rejected recipient: exit %d\n%s%s", code, out, errOut)
	}

	code, out, _ = run(t, env, "release", "announce", "--product", "jira", "--version", "9.4.0")
	if code != 0 || !strings.Contains(out, "was announced already") {
		t.Errorf("announce jira again: exit %d\n%s", code, out)
	}

	body := filepath.Join(dir, "body.md")
	if err := os.WriteFile(body, []byte("Maintenance **tonight**.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, env, "broadcast", "send", "--subject", "Maintenance", "--body-file", body, "--roles", "technical", "--products", "jira", "--dry-run")
	if code != 0 || !strings.Contains(out, "1 recipients") || !strings.Contains(out, "ann@acme.test") {
		t.Errorf("broadcast dry run: exit %d\n%s%s", code, out, errOut)
	}
	before := smtp.PerRecipient()["ann@acme.test"]
	code, out, errOut = run(t, env, "broadcast", "send", "--subject", "Maintenance", "--body-file", body, "--roles", "technical", "--products", "jira", "--wait")
	if code != 0 || !strings.Contains(out, "done: 1 recipients, 1 sent") || smtp.PerRecipient()["ann@acme.test"] != before+1 {
		t.Errorf("broadcast: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = run(t, env, "broadcast", "send", "--subject", "Maintenance", "--body-file", body, "--products", "crowd")
	if code == 0 || !strings.Contains(errOut, "no one would receive this broadcast") {
		t.Errorf("broadcast to nobody: exit %d, %s", code, errOut)
	}
}
