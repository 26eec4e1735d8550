package main_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/web"
)

// TestStaff runs the staff commands on the real binary: add, list, the
// last admin's guard, a printed sign-in link that signs in once to the
// console only, and removal ending the session.
func TestStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := migrated(t)
	env := []string{"HERALD_DATABASE_URL=" + url, "HERALD_TIMEZONE=Europe/Berlin", "HERALD_HTTP_ADDR=127.0.0.1:9180"}

	ok := func(t *testing.T, want string, args ...string) string {
		t.Helper()
		code, out, errOut := run(t, env, args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q; want %q", args, code, out, errOut, want)
		}
		return out
	}
	ok(t, "added ann@acme.test as admin (Europe/Berlin)\n", "staff", "add", "Ann@acme.test", "--role", "admin")
	ok(t, "added bob@acme.test as viewer (America/New_York)\n", "staff", "add", "bob@acme.test", "--role", "viewer", "--timezone", "America/New_York")
	out := ok(t, "ann@acme.test", "staff", "list")
	if !regexp.MustCompile(`(?m)^ann@acme\.test\s+admin\s+Europe/Berlin\s`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^bob@acme\.test\s+viewer\s+America/New_York\s`).MatchString(out) {
		t.Errorf("list:\n%s", out)
	}

	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"LastAdminRemoved", []string{"staff", "remove", "ann@acme.test"}, "herald: ann@acme.test is the last admin and cannot be removed: make another admin first\n"},
		{"LastAdminDemoted", []string{"staff", "set-role", "ann@acme.test", "editor"}, "herald: ann@acme.test is the last admin and cannot be demoted: make another admin first\n"},
		{"Twice", []string{"staff", "add", "ann@acme.test", "--role", "viewer"}, "herald: ann@acme.test is staff already\n"},
		{"NotAnAddress", []string{"staff", "add", "ann", "--role", "viewer"}, "herald: email: \"ann\" is not an email address\n"},
		{"BadZone", []string{"staff", "add", "cat@acme.test", "--role", "viewer", "--timezone", "Mars/Olympus"}, "herald: timezone: \"Mars/Olympus\" is not an IANA timezone such as Europe/Berlin\n"},
		{"LinkForStranger", []string{"staff", "sign-in-link", "eve@acme.test"}, "herald: eve@acme.test is not staff: add them with herald staff add\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, env, tt.args...)
			if code == 0 || out != "" || errOut != tt.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q; want non-zero and %q", code, out, errOut, tt.stderr)
			}
		})
	}

	out = ok(t, "http://127.0.0.1:9180/console/sign-in/", "staff", "sign-in-link", "BOB@acme.test")
	token := strings.TrimSpace(strings.TrimPrefix(out, "http://127.0.0.1:9180/console/sign-in/"))
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	portal := web.NewSessions(d, web.RealmPortal, time.Hour, time.Hour, time.Now)
	if _, _, err := portal.SignIn(ctx, token); err == nil {
		t.Fatal("a console link signed in to the portal")
	}
	console := web.NewSessions(d, web.RealmConsole, time.Hour, time.Hour, time.Now)
	session, sess, err := console.SignIn(ctx, token)
	if err != nil || sess.Subject != "bob@acme.test" {
		t.Fatalf("console sign-in: %+v, %v", sess, err)
	}
	if _, _, err := console.SignIn(ctx, token); err == nil {
		t.Error("the link signed in twice")
	}

	ok(t, "removed bob@acme.test; their console sessions have ended\n", "staff", "remove", "bob@acme.test")
	if _, err := console.Lookup(ctx, session); err == nil {
		t.Error("bob's session outlived his removal")
	}
}
