package main_test

import (
	"debug/buildinfo"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/smtptest"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	info, err := buildinfo.ReadFile(herald(t))
	if err != nil {
		t.Fatal(err)
	}
	var revision string
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			revision = s.Value
		}
	}
	var first string
	// "version" needs no configuration: a broken one does not stop it.
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := run(t, []string{"HERALD_DATABASE_URL=mysql://db"}, args...)
		if code != 0 || errOut != "" || strings.Count(out, "\n") != 1 {
			t.Fatalf("herald %s: exit %d, %q, %q; want one line", args[0], code, out, errOut)
		}
		if !strings.HasPrefix(out, "herald "+info.Main.Version) || !strings.Contains(out, revision) || !strings.Contains(out, info.GoVersion) {
			t.Errorf("herald %s = %q, want the module version %q, the revision %q and %s", args[0], out, info.Main.Version, revision, info.GoVersion)
		}
		if first == "" {
			first = out
		} else if out != first {
			t.Errorf("herald version = %q, herald --version = %q", out, first)
		}
	}
	// After a subcommand, --version is that subcommand's flag.
	if code, _, errOut := run(t, nil, "release", "announce", "--help"); code != 0 || errOut != "" {
		t.Errorf("release announce --help: exit %d, %q", code, errOut)
	}
}

func TestUnknownVariablesAreNamed(t *testing.T) {
	t.Parallel()
	env := []string{"HERALD_HTTP_ADRR=127.0.0.1:9000", "HERALD_TEST_ANYTHING=1", "HERALD_DATABASE_URL=sqlite:herald.db"}
	const warning = "HERALD_HTTP_ADRR: unknown setting; did you mean HERALD_HTTP_ADDR?"
	code, _, errOut := run(t, env, "migrate")
	if code != 0 || !strings.Contains(errOut, "level=WARN") || !strings.Contains(errOut, warning) || strings.Contains(errOut, "HERALD_TEST_") {
		t.Errorf("migrate: exit %d, stderr:\n%s", code, errOut)
	}
	// With a configuration that does not load, the warning comes before
	// the error: the misspelling may be its cause.
	code, _, errOut = run(t, append(env, "HERALD_LOG_LEVEL=loud"), "migrate")
	if want := "herald: warning: " + warning + "\nherald: HERALD_LOG_LEVEL: "; code == 0 || !strings.HasPrefix(errOut, want) {
		t.Errorf("migrate with a bad setting: exit %d, stderr %q, want it to start %q", code, errOut, want)
	}
}

func TestServeWarnsOfLinksToLoopback(t *testing.T) {
	t.Parallel()
	relay := smtptest.Start(t)
	const warning = "HERALD_PUBLIC_URL is http://127.0.0.1:0, a loopback address, while mail goes out through HERALD_SMTP_URL"
	p := serve(t, t.TempDir(), "HERALD_HTTP_ADDR=127.0.0.1:0", "HERALD_SMTP_URL=smtp://127.0.0.1:"+relay.Port()+"?tls=none")
	if !strings.Contains(p.log.String(), "level=WARN msg=\""+warning) {
		t.Errorf("no warning of a loopback public URL with a relay:\n%s", p.log.String())
	}
	p.stop(t)

	// The outbox sends nobody anything: no warning.
	p = serve(t, t.TempDir(), "HERALD_HTTP_ADDR=127.0.0.1:0")
	p.stop(t) // the log is complete once the process has exited
	if strings.Contains(p.log.String(), "loopback") {
		t.Errorf("a warning with the outbox:\n%s", p.log.String())
	}
}
