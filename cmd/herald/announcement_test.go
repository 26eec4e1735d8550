package main_test

import (
	"strings"
	"testing"
)

// TestAnnouncementPauseAndResume pauses a scheduled release from the shell
// and resumes it.
func TestAnnouncementPauseAndResume(t *testing.T) {
	t.Parallel()
	env := []string{"HERALD_DATABASE_URL=" + migrated(t)}
	if code, out, errOut := run(t, env, "release", "announce", "--product", "jira", "--version", "9.4.0", "--send-at", "2099-01-01T00:00:00Z"); code != 0 {
		t.Fatalf("announce: exit %d: %s%s", code, out, errOut)
	}
	code, out, errOut := run(t, env, "announcement", "pause", "1", "--reason", "wrong notes")
	if code != 0 || !strings.Contains(out, "announcement 1 paused") {
		t.Errorf("pause: exit %d: %s%s", code, out, errOut)
	}
	if code, _, errOut := run(t, env, "announcement", "pause", "2"); code == 0 || !strings.Contains(errOut, "announcement 2 does not exist") {
		t.Errorf("pause of an unknown announcement: exit %d, %q", code, errOut)
	}
	code, out, errOut = run(t, env, "announcement", "resume", "1")
	if code != 0 || !strings.Contains(out, "announcement 1 resumed: scheduled") {
		t.Errorf("resume: exit %d: %s%s", code, out, errOut)
	}
	if code, _, errOut := run(t, env, "announcement", "resume", "1"); code == 0 || !strings.Contains(errOut, "not paused") {
		t.Errorf("resume of what is not paused: exit %d, %q", code, errOut)
	}
}
