package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWaitWithoutAWorker waits for a release that nothing sends: no herald
// runs on the database. The command says once that no worker seems to run
// and gives up at --timeout. The stall window is shortened by its hidden
// flag; nothing here depends on how fast the machine is, since without a
// worker nothing can move.
func TestWaitWithoutAWorker(t *testing.T) {
	t.Parallel()
	env := []string{"HERALD_DATABASE_URL=" + migrated(t)}
	csv := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(csv, []byte("license_id,product,license_name,email,name,role,main\nSEN-1,jira,Acme,ann@acme.test,Ann,technical,true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, env, "import", csv); code != 0 {
		t.Fatalf("import: exit %d: %s%s", code, out, errOut)
	}

	code, out, errOut := run(t, env, "release", "announce", "--product", "jira", "--version", "9.4.0",
		"--wait", "--timeout", "2s", "--poll", "20ms", "--stall-after", "100ms")
	stall := `announcement 1: nothing has moved for 100ms while deliveries are pending: no worker seems to be running ("herald serve", or "herald worker" on this database and HERALD_REDIS_URL); still waiting` + "\n"
	if n := strings.Count(errOut, stall); n != 1 {
		t.Errorf("the stall notice shows %d times, want once:\n%s", n, errOut)
	}
	if !strings.HasSuffix(errOut, "herald: stopped waiting for announcement 1 after 2s (--timeout), still resolving; it goes on without this command\n") {
		t.Errorf("stderr does not end with the timeout:\n%s", errOut)
	}
	if code == 0 || !strings.Contains(out, "announcing jira 9.4.0: announcement 1, resolving") {
		t.Errorf("exit %d, stdout:\n%s", code, out)
	}

	// A scheduled announcement waits for its time, not for a worker.
	code, _, errOut = run(t, env, "release", "announce", "--product", "jira", "--version", "9.5.0", "--send-at", "2099-01-01T00:00:00Z",
		"--wait", "--timeout", "500ms", "--poll", "20ms", "--stall-after", "100ms")
	if code == 0 || strings.Contains(errOut, "no worker") || !strings.Contains(errOut, "stopped waiting for announcement 2") {
		t.Errorf("waiting for a scheduled announcement: exit %d, stderr:\n%s", code, errOut)
	}

	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"TimeoutWithoutWait", []string{"--timeout", "1m"}, "herald: --timeout: only goes with --wait\n"},
		{"NegativeTimeout", []string{"--wait", "--timeout=-1m"}, "herald: --timeout: -1m0s is negative\n"},
		{"NotADuration", []string{"--wait", "--timeout", "soon"}, `herald: error: --timeout: expected duration but got "soon": time: invalid duration "soon"` + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"release", "announce", "--product", "jira", "--version", "10.0"}, tt.args...)
			if code, _, errOut := run(t, env, args...); code == 0 || errOut != tt.stderr {
				t.Errorf("exit %d, stderr %q; want non-zero and %q", code, errOut, tt.stderr)
			}
		})
	}
}
