package main_test

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
)

// TestContactsUnsuppress lifts a suppression from the shell and checks what
// it printed and what it recorded.
func TestContactsUnsuppress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := migrated(t)
	env := []string{"HERALD_DATABASE_URL=" + url}
	csv := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(csv, []byte("license_id,product,license_name,email,name,role,main\n"+
		"SEN-1,jira,Acme,ann@acme.test,Ann,technical,true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, env, "import", csv); code != 0 {
		t.Fatalf("import: exit %d: %s%s", code, out, errOut)
	}
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	store := contacts.NewStore(d, time.Now)
	if err := store.Suppress(ctx, "ann@acme.test", contacts.Suppression{Reply: "550 5.1.1 no such user", Code: 550, Enhanced: "5.1.1", DeliveryID: 42}); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := run(t, env, "contacts", "unsuppress", "Ann@acme.test")
	if code != 0 || !strings.HasPrefix(out, "lifted the suppression of ann@acme.test, suppressed since ") ||
		!strings.HasSuffix(out, " (code 550, delivery 42): 550 5.1.1 no such user\n") {
		t.Fatalf("unsuppress: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	c, err := store.GetContact(ctx, "ann@acme.test")
	if err != nil || c.Suppression != nil {
		t.Errorf("ann after unsuppress: suppression %+v (%v), want none", c.Suppression, err)
	}
	wantBy := "cli:unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		wantBy = "cli:" + u.Username
	}
	var by string
	if err := db.Get(ctx, d, &by, `SELECT lifted_by FROM suppressions WHERE email = ? AND lifted_at IS NOT NULL`, "ann@acme.test"); err != nil || by != wantBy {
		t.Errorf("lifted_by = %q (%v), want %q", by, err, wantBy)
	}
	var audited string
	if err := db.Get(ctx, d, &audited, `SELECT via || ':' || actor FROM audit_log WHERE action = 'suppression_lifted' AND email = ?`, "ann@acme.test"); err != nil || audited != wantBy {
		t.Errorf("audit of the lift = %q (%v), want %q", audited, err, wantBy)
	}

	for _, tt := range []struct {
		name, email, stderr string
	}{
		{"NotSuppressed", "ann@acme.test", "herald: ann@acme.test is not suppressed\n"},
		{"NotAnAddress", "ann", "herald: email: \"ann\" is not an email address\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, env, "contacts", "unsuppress", tt.email)
			if code == 0 || out != "" || errOut != tt.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want non-zero and %q", code, out, errOut, tt.stderr)
			}
		})
	}
}
