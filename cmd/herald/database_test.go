package main_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/dbtest"
)

// TestCommandsNeedAHeraldDatabase runs the commands that administer a
// database where there is none: each says so in one line and creates
// nothing, until "herald migrate" makes the database.
func TestCommandsNeedAHeraldDatabase(t *testing.T) {
	t.Parallel()
	files := t.TempDir()
	csv := filepath.Join(files, "contacts.csv")
	body := filepath.Join(files, "body.md")
	if err := os.WriteFile(csv, []byte("license_id,product,license_name,email,name,role,main\nSEN-1,jira,Acme,ann@acme.test,Ann,technical,true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(body, []byte("Maintenance tonight.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	commands := [][]string{
		{"token", "list"},
		{"token", "create", "ci"},
		{"import", csv},
		{"invoice", "remind"},
		{"contacts", "unsuppress", "ann@acme.test"},
		{"announcement", "resume", "1"},
		{"release", "announce", "--product", "jira", "--version", "9.4.0"},
		{"broadcast", "send", "--subject", "Maintenance", "--body-file", body},
		{"broadcast", "test", "--subject", "Maintenance", "--body-file", body, "--to", "me@vendor.test"},
	}

	t.Run("DefaultDatabaseInAnEmptyDirectory", func(t *testing.T) {
		for _, args := range commands {
			dir := t.TempDir()
			code, out, errOut := runIn(t, dir, nil, args...)
			if want := "herald: no herald database at sqlite:./herald.db; run herald migrate first\n"; code == 0 || out != "" || errOut != want {
				t.Errorf("herald %s: exit %d, stdout %q, stderr %q; want non-zero and %q", strings.Join(args, " "), code, out, errOut, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("herald %s left %v in the working directory", strings.Join(args, " "), entries)
			}
		}
	})

	t.Run("SQLiteFileInAMissingDirectory", func(t *testing.T) {
		dir := t.TempDir()
		code, _, errOut := runIn(t, dir, []string{"HERALD_DATABASE_URL=sqlite:data/herald.db"}, "token", "list")
		if want := "herald: no herald database at sqlite:data/herald.db; run herald migrate first\n"; code == 0 || errOut != want {
			t.Errorf("exit %d, stderr %q; want non-zero and %q", code, errOut, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
			t.Errorf("the directory of the missing database was made: %v", err)
		}
	})

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		dbURL := database.URL(t) // empty: a missing SQLite file, a PostgreSQL schema without tables
		env := []string{"HERALD_DATABASE_URL=" + dbURL}
		shown := dbURL
		if u, err := url.Parse(dbURL); err == nil && u.User != nil {
			shown = u.Redacted()
		}
		code, _, errOut := run(t, env, "token", "list")
		if want := "herald: no herald database at " + shown + "; run herald migrate first\n"; code == 0 || errOut != want {
			t.Errorf("before migrate: exit %d, stderr %q; want non-zero and %q", code, errOut, want)
		}
		if u, err := url.Parse(dbURL); err == nil {
			if pw, ok := u.User.Password(); ok && strings.Contains(errOut, pw) {
				t.Errorf("the password of the database URL is shown: %q", errOut)
			}
		}
		if code, out, errOut := run(t, env, "migrate"); code != 0 || !strings.Contains(out, "database is up to date") {
			t.Fatalf("migrate: exit %d: %s%s", code, out, errOut)
		}
		if code, out, errOut := run(t, env, "token", "list"); code != 0 || !strings.HasPrefix(out, "NAME") {
			t.Errorf("after migrate: exit %d: %s%s", code, out, errOut)
		}
	})
}
