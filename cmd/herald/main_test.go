package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// herald builds the binary once for the package's tests.
func herald(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "herald")
		if runtime.GOOS == "windows" {
			binary += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer that a process may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a running herald serve.
//
// Its stdout is copied from a pipe by a goroutine of os/exec, independently
// of stderr: when a line shows on stderr, what the process wrote on stdout
// before may not be in the buffer yet. Wait for what is expected there with
// apptest.WaitFor while the process runs; stdout is complete only once the process
// has exited (after stop or kill).
type process struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	log    *syncBuffer // stderr
	addr   string
	done   chan error
}

var servingLine = regexp.MustCompile(`msg="herald is serving" addr=(\S+)`)

// serve starts "herald serve" in dir with only env set (no inherited
// environment) and waits until it listens.
func serve(t *testing.T, dir string, env ...string) *process {
	t.Helper()
	return start(t, dir, "serve", servingLine, env...)
}

// start starts "herald role" in dir with only env set and waits until it
// logs listening, a line whose first group is the address.
func start(t *testing.T, dir, role string, listening *regexp.Regexp, env ...string) *process {
	t.Helper()
	cmd := exec.Command(herald(t), role)
	cmd.Dir = dir
	cmd.Env = env
	p := &process{cmd: cmd, stdout: &syncBuffer{}, log: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout = p.stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	log := p.log
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(log, sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default: // only the first one counts; keep draining stderr
				}
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case p.addr = <-addr:
		return p
	case err := <-p.done:
		t.Fatalf("herald %s exited before listening: %v\n%s", role, err, log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("herald %s did not listen within 30s:\n%s", role, log.String())
	}
	return nil
}

// stop sends SIGTERM and expects a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("herald serve exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("herald serve did not stop within 20s of SIGTERM")
	}
}

// kill sends SIGKILL and waits until the process is gone, so that what it
// wrote (stdout, the database, the SMTP server) no longer changes.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("herald serve did not exit within 20s of SIGKILL")
	}
}

var tokenPattern = regexp.MustCompile(`hrld_[A-Za-z0-9_-]{43}`)

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServeOnEmbeddedDefaults runs the binary as a newcomer would: in an
// empty directory, with no configuration. Only the listen port is chosen by
// the system, so that the test never collides with a herald already running.
func TestServeOnEmbeddedDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := serve(t, dir, "HERALD_HTTP_ADDR=127.0.0.1:0")

	// herald prints the token before it listens, but stdout reaches the
	// buffer through another pipe than the "herald is serving" line.
	var token string
	apptest.WaitFor(t, 10*time.Second, "the first start to print a token", func() bool {
		token = tokenPattern.FindString(p.stdout.String())
		return token != ""
	})
	base := "http://" + p.addr + "/api/v1"
	status, body := call(t, "POST", base+"/licenses", token,
		`{"id":"SEN-1234","product":"jira","name":"Acme Corp","contacts":[{"email":"ann@acme.test","name":"Ann","role":"technical"}]}`)
	if status != http.StatusCreated {
		t.Fatalf("create license = %d: %s", status, body)
	}
	port := p.addr[strings.LastIndex(p.addr, ":")+1:]
	if code, out, errOut := run(t, []string{"HERALD_HTTP_ADDR=0.0.0.0:" + port}, "healthcheck"); code != 0 || out != "ready\n" {
		t.Errorf("healthcheck of a running herald: exit %d, %q, %q", code, out, errOut)
	}
	p.stop(t)
	// All of stdout is in the buffer now that the process has exited.
	if tokens := tokenPattern.FindAllString(p.stdout.String(), -1); len(tokens) != 1 {
		t.Errorf("the first start printed %d tokens, want 1:\n%s", len(tokens), p.stdout)
	}
	// The stopped herald's port may already serve another test's herald:
	// a herald that answers "not ready" stands in for it.
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"status":"unavailable"}`, http.StatusServiceUnavailable)
	}))
	defer notReady.Close()
	if code, _, errOut := run(t, []string{"HERALD_HTTP_ADDR=" + notReady.Listener.Addr().String()}, "healthcheck"); code == 0 || !strings.Contains(errOut, "not ready") {
		t.Errorf("healthcheck of a herald that is not ready: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "herald.db")); err != nil {
		t.Errorf("no herald.db in the working directory: %v", err)
	}

	// A second start keeps the data and does not print a token again.
	p = serve(t, dir, "HERALD_HTTP_ADDR=127.0.0.1:0")
	status, body = call(t, "GET", "http://"+p.addr+"/api/v1/licenses/SEN-1234", token, "")
	if status != http.StatusOK || !strings.Contains(body, `"email":"ann@acme.test","name":"Ann","main":true`) {
		t.Fatalf("read back = %d: %s", status, body)
	}
	p.stop(t)
	// Only after the exit is stdout complete: checked earlier, a token
	// still in the pipe would go unnoticed.
	if tokenPattern.MatchString(p.stdout.String()) {
		t.Errorf("a token was printed again on the second start:\n%s", p.stdout)
	}
}

// run runs herald with args in an empty directory of its own, with only
// env set.
func run(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runIn(t, t.TempDir(), env, args...)
}

// runIn runs herald with args in dir, with only env set.
func runIn(t *testing.T, dir string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(herald(t), args...)
	cmd.Env = env
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code == -1 {
		t.Fatalf("herald %v: %v", args, err)
	}
	return code, out.String(), errOut.String()
}

// migrated returns the URL of a fresh database that "herald migrate" made,
// as a person sets one up before the other commands.
func migrated(t *testing.T) string {
	t.Helper()
	url := dbtest.URL(t)
	if code, out, errOut := run(t, []string{"HERALD_DATABASE_URL=" + url}, "migrate"); code != 0 {
		t.Fatalf("herald migrate: exit %d: %s%s", code, out, errOut)
	}
	return url
}

func TestCommandLine(t *testing.T) {
	t.Parallel()

	t.Run("EverySubcommandHasHelp", func(t *testing.T) {
		for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"token", "--help"},
			{"token", "create", "--help"}, {"token", "list", "--help"}, {"token", "revoke", "--help"}, {"import", "--help"}, {"healthcheck", "--help"}, {"announcement", "pause", "--help"}, {"announcement", "resume", "--help"},
			{"contacts", "--help"}, {"contacts", "unsuppress", "--help"}, {"release", "announce", "--help"}, {"invoice", "remind", "--help"},
			{"broadcast", "send", "--help"}, {"broadcast", "test", "--help"}, {"version", "--help"}} {
			code, out, _ := run(t, nil, args...)
			if code != 0 || !strings.Contains(out, "Usage: herald") {
				t.Errorf("herald %s: exit %d, output:\n%s", strings.Join(args, " "), code, out)
			}
		}
	})

	t.Run("BadFlagIsOneLine", func(t *testing.T) {
		code, _, errOut := run(t, nil, "serve", "--bogus")
		if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--bogus") {
			t.Errorf("exit %d, stderr %q; want non-zero and one line naming --bogus", code, errOut)
		}
	})

	t.Run("BadConfigIsOneLineNamingTheSetting", func(t *testing.T) {
		code, _, errOut := run(t, []string{"HERALD_DATABASE_URL=mysql://db/herald"}, "migrate")
		want := `herald: HERALD_DATABASE_URL: unsupported scheme "mysql" (use sqlite: or postgres:)` + "\n"
		if code == 0 || errOut != want {
			t.Errorf("exit %d, stderr %q; want non-zero and %q", code, errOut, want)
		}
	})

	t.Run("TokensAndImport", func(t *testing.T) {
		url := migrated(t)
		env := []string{"HERALD_DATABASE_URL=" + url}
		code, secret, errOut := run(t, env, "token", "create", "billing-system")
		if code != 0 || !tokenPattern.MatchString(secret) {
			t.Fatalf("token create: exit %d, %q, %q", code, secret, errOut)
		}
		code, list, _ := run(t, env, "token", "list")
		if code != 0 || !strings.Contains(list, "billing-system") || strings.Contains(list, strings.TrimSpace(secret)) {
			t.Errorf("token list: exit %d:\n%s", code, list)
		}
		if code, _, errOut := run(t, env, "token", "revoke", "nobody"); code == 0 || !strings.Contains(errOut, "no token named nobody") {
			t.Errorf("revoke unknown: exit %d, %q", code, errOut)
		}
		if code, _, _ := run(t, env, "token", "revoke", "billing-system"); code != 0 {
			t.Errorf("revoke: exit %d", code)
		}
		// Both are in the audit log, as the user who ran them.
		d, err := db.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		var audited []string
		err = db.Select(context.Background(), d, &audited, `SELECT action || ' ' || token_name || ' ' || via || ':' || actor FROM audit_log ORDER BY id`)
		d.Close()
		who := "unknown"
		if u, err := user.Current(); err == nil && u.Username != "" {
			who = u.Username
		}
		if want := []string{"token_created billing-system cli:" + who, "token_revoked billing-system cli:" + who}; err != nil || !slices.Equal(audited, want) {
			t.Errorf("audit log %q (%v), want %q", audited, err, want)
		}

		dir := t.TempDir()
		good, bad := filepath.Join(dir, "good.csv"), filepath.Join(dir, "bad.csv")
		header := "license_id,product,license_name,email,name,role,main\n"
		if err := os.WriteFile(good, []byte(header+"SEN-1,jira,Acme,ann@acme.test,Ann,technical,true\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bad, []byte(header+"SEN-2,jira,Beta,bob@beta.test,Bob,technical,true\nSEN-2,jira,Beta,nope,X,owner,false\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut := run(t, env, "import", good)
		if code != 0 || !strings.Contains(out, "licenses 1 created") {
			t.Errorf("import good: exit %d, %q, %q", code, out, errOut)
		}
		code, _, errOut = run(t, env, "import", bad)
		if code == 0 || !strings.Contains(errOut, "bad.csv:3: email") {
			t.Errorf("import bad: exit %d, stderr:\n%s", code, errOut)
		}
		many := filepath.Join(dir, "many.csv")
		if err := os.WriteFile(many, []byte(header+strings.Repeat("SEN-3,jira,Gamma,nope,X,technical,false\n", 150)), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut = run(t, env, "import", many)
		if code == 0 || strings.Count(errOut, "many.csv:") != 102 || !strings.Contains(errOut, "many.csv: and 50 more bad line(s)") ||
			!strings.Contains(errOut, "150 bad line(s); nothing was imported") {
			t.Errorf("import of 150 bad lines: exit %d, stderr:\n%s", code, errOut)
		}
		code, out, _ = run(t, env, "import", good)
		if code != 0 || !strings.Contains(out, "1 rows unchanged") {
			t.Errorf("import good again: exit %d, %q", code, out)
		}

		invoices := filepath.Join(dir, "invoices.csv")
		if err := os.WriteFile(invoices, []byte("number,license_id,amount_minor,currency,due_date\nINV-1,SEN-1,125000,EUR,2026-12-15\nINV-2,SEN-9,5,EUR,2026-12-15\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut = run(t, env, "invoice", "import", invoices)
		if code == 0 || !strings.Contains(errOut, "invoices.csv:3: license_id: license SEN-9 does not exist") {
			t.Errorf("invoice import with an unknown license: exit %d, stderr:\n%s", code, errOut)
		}
		if err := os.WriteFile(invoices, []byte("number,license_id,amount_minor,currency,due_date\nINV-1,SEN-1,125000,EUR,2026-12-15\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, out, errOut = run(t, env, "invoice", "import", invoices)
		if code != 0 || !strings.Contains(out, "1 invoices created, 0 updated") {
			t.Errorf("invoice import: exit %d, %q, %q", code, out, errOut)
		}
	})
}
