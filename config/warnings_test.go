package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/config"
)

func TestPublicURLFollowsTheAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"Default", nil, "http://127.0.0.1:8080"},
		{"OtherPort", map[string]string{"HERALD_HTTP_ADDR": "127.0.0.1:9090"}, "http://127.0.0.1:9090"},
		{"EveryInterface", map[string]string{"HERALD_HTTP_ADDR": "0.0.0.0:9090"}, "http://localhost:9090"},
		{"EmptyHost", map[string]string{"HERALD_HTTP_ADDR": ":9090"}, "http://localhost:9090"},
		{"EveryIPv6Interface", map[string]string{"HERALD_HTTP_ADDR": "[::]:9090"}, "http://localhost:9090"},
		{"IPv6", map[string]string{"HERALD_HTTP_ADDR": "[::1]:9090"}, "http://[::1]:9090"},
		{"Name", map[string]string{"HERALD_HTTP_ADDR": "herald.internal:80"}, "http://herald.internal:80"},
		{"SetWins", map[string]string{"HERALD_HTTP_ADDR": ":9090", "HERALD_PUBLIC_URL": "https://herald.example.com"}, "https://herald.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load("", env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			if cfg.Lists.PublicURL != tc.want {
				t.Errorf("HERALD_PUBLIC_URL = %q, want %q", cfg.Lists.PublicURL, tc.want)
			}
		})
	}

	t.Run("SetInTheFile", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "herald.yaml")
		if err := os.WriteFile(path, []byte("public_url: https://herald.example.com\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, env(map[string]string{"HERALD_HTTP_ADDR": ":9090"}))
		if err != nil || cfg.Lists.PublicURL != "https://herald.example.com" {
			t.Errorf("HERALD_PUBLIC_URL = %q, %v; want the file's", cfg.Lists.PublicURL, err)
		}
	})
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vars map[string]string
		warn bool
	}{
		{"OutboxOnLoopback", nil, false},
		{"RelayOnLoopback", map[string]string{"HERALD_SMTP_URL": "smtp://relay.example.com"}, true},
		{"RelayOnLocalhost", map[string]string{"HERALD_SMTP_URL": "smtp://relay.example.com", "HERALD_HTTP_ADDR": "0.0.0.0:8080"}, true},
		{"RelayOnIPv6Loopback", map[string]string{"HERALD_SMTP_URL": "smtp://relay.example.com", "HERALD_PUBLIC_URL": "http://[::1]:8080"}, true},
		{"RelayOnPublicName", map[string]string{"HERALD_SMTP_URL": "smtp://relay.example.com", "HERALD_PUBLIC_URL": "https://herald.example.com"}, false},
		{"RelayOnPrivateAddress", map[string]string{"HERALD_SMTP_URL": "smtp://relay.example.com", "HERALD_PUBLIC_URL": "http://10.0.0.5:8080"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load("", env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			w := cfg.Warnings()
			if got := len(w) == 1 && strings.HasPrefix(w[0], "HERALD_PUBLIC_URL is ") && strings.Contains(w[0], "loopback"); got != tc.warn || len(w) > 1 {
				t.Errorf("Warnings = %q, want a loopback warning: %v", w, tc.warn)
			}
		})
	}
}

func TestUnknownVariables(t *testing.T) {
	t.Parallel()
	got := config.UnknownVariables([]string{
		"HERALD_HTTP_ADRR=127.0.0.1:9000",
		"HERALD_DATABSE_URL=sqlite:x.db",
		"HERALD_SMTPURL=smtp://relay",
		"HERALD_LOGLEVEL=debug",
		"HERALD_SOMETHING_ELSE_ENTIRELY=1",
		"HERALD_HTTP_ADDR=127.0.0.1:8080",
		"HERALD_CONFIG=herald.yaml",
		"HERALD_TEST_DATABASE_URL=postgres://localhost/test",
		"HERALD_TEST_ANYTHING=1",
		"PATH=/usr/bin",
		"herald_http_adrr=lower case is not herald's",
	})
	want := []string{
		"HERALD_DATABSE_URL: unknown setting; did you mean HERALD_DATABASE_URL?",
		"HERALD_HTTP_ADRR: unknown setting; did you mean HERALD_HTTP_ADDR?",
		"HERALD_LOGLEVEL: unknown setting; did you mean HERALD_LOG_LEVEL?",
		"HERALD_SMTPURL: unknown setting; did you mean HERALD_SMTP_URL?",
		"HERALD_SOMETHING_ELSE_ENTIRELY: unknown setting",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UnknownVariables (-want +got):\n%s", diff)
	}
}

// TestUnknownVariableSuggestions: a name that is a typo of a setting gets
// that setting; a name that is the beginning or the end of one or more
// settings, in whole words, gets those, the closest first.
func TestUnknownVariableSuggestions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want string }{
		{"HERALD_REDIS", "HERALD_REDIS_URL"},
		{"HERALD_TOKEN", "HERALD_ADMIN_TOKEN"},
		{"HERALD_DKIM_KEY", "HERALD_DKIM_KEY_FILE"},
		{"HERALD_KEY_FILE", "HERALD_DKIM_KEY_FILE"},
		{"HERALD_DKIM", "HERALD_DKIM_DOMAIN, HERALD_DKIM_SELECTOR or HERALD_DKIM_KEY_FILE"},
		{"HERALD_SMTP", "HERALD_SMTP_URL, HERALD_SMTP_RATE or HERALD_SMTP_CONNECTIONS"},
		// A typo wins over a word that starts other names.
		{"HERALD_SECRETS", "HERALD_SECRET"},
		{"HERALD_REDIS_ULR", "HERALD_REDIS_URL"},
		// Whole words only, and a name must add a word.
		{"HERALD_RED", ""},
		{"HERALD_OKEN", ""},
		{"HERALD_SOMETHING_ELSE_ENTIRELY", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := []string{tc.name + ": unknown setting"}
			if tc.want != "" {
				want[0] += "; did you mean " + tc.want + "?"
			}
			got := config.UnknownVariables([]string{tc.name + "=x"})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("UnknownVariables (-want +got):\n%s", diff)
			}
		})
	}
}
