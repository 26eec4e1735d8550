package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/config"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("DefaultsRunOnABareMachine", func(t *testing.T) {
		cfg, err := config.Load("", env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("defaults do not validate: %v", err)
		}
		if cfg.Database.URL != "sqlite:./herald.db" || cfg.HTTP.Addr != "127.0.0.1:8080" {
			t.Errorf("defaults: %+v", cfg)
		}
	})

	t.Run("EnvironmentOverridesFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "herald.yaml")
		yaml := "http_addr: 0.0.0.0:9000\ndatabase_url: postgres://db/herald\nshutdown_timeout: 5s\n"
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, env(map[string]string{"HERALD_DATABASE_URL": "sqlite:/var/lib/herald.db", "HERALD_LOG_LEVEL": "debug"}))
		if err != nil {
			t.Fatal(err)
		}
		want := config.Default()
		want.HTTP.Addr = "0.0.0.0:9000"
		want.HTTP.ShutdownTimeout = 5 * time.Second
		want.Database.URL = "sqlite:/var/lib/herald.db"
		want.Log.Level = "debug"
		if diff := cmp.Diff(want, cfg); diff != "" {
			t.Errorf("config (-want +got):\n%s", diff)
		}
	})

	t.Run("UnknownKeyInFileIsAnError", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "herald.yaml")
		if err := os.WriteFile(path, []byte("http_adr: :80\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "http_adr") {
			t.Errorf("Load = %v, want an error naming http_adr", err)
		}
	})

	t.Run("EmptyFileIsFine", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "herald.yaml")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := config.Load(path, env(nil)); err != nil {
			t.Errorf("Load of an empty file = %v", err)
		}
	})

	t.Run("UnparsableEnvironmentNamesTheVariable", func(t *testing.T) {
		_, err := config.Load("", env(map[string]string{"HERALD_SHUTDOWN_TIMEOUT": "soon"}))
		if err == nil || !strings.HasPrefix(err.Error(), "HERALD_SHUTDOWN_TIMEOUT: ") {
			t.Errorf("Load = %v, want an error naming HERALD_SHUTDOWN_TIMEOUT", err)
		}
	})
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"UnsupportedScheme", map[string]string{"HERALD_DATABASE_URL": "mysql://db"}, `HERALD_DATABASE_URL: unsupported scheme "mysql" (use sqlite: or postgres:)`},
		{"SQLiteWithoutPath", map[string]string{"HERALD_DATABASE_URL": "sqlite:"}, "HERALD_DATABASE_URL: sqlite: needs a file path"},
		{"BadAddr", map[string]string{"HERALD_HTTP_ADDR": "8080"}, "HERALD_HTTP_ADDR: "},
		{"ShortToken", map[string]string{"HERALD_ADMIN_TOKEN": "secret"}, "HERALD_ADMIN_TOKEN: must be at least 16 characters"},
		{"BadLevel", map[string]string{"HERALD_LOG_LEVEL": "loud"}, "HERALD_LOG_LEVEL: "},
		{"BadFormat", map[string]string{"HERALD_LOG_FORMAT": "xml"}, "HERALD_LOG_FORMAT: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load("", env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want %q…", err, tc.want)
			}
		})
	}
}

// TestREADMEListsEverySetting keeps the configuration table of the README
// complete.
func TestREADMEListsEverySetting(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(config.Names(), "HERALD_CONFIG") {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document %s", name)
		}
	}
}
