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
		want.Lists.PublicURL = "http://localhost:9000" // follows the address
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

// TestValidateMessages pins the exact message of one bad value in each part
// of Config, so that each message keeps naming its variable.
func TestValidateMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"HTTP", map[string]string{"HERALD_HTTP_ADDR": "8080"}, `HERALD_HTTP_ADDR: "8080" is not host:port`},
		{"Database", map[string]string{"HERALD_DATABASE_URL": "mysql://db"}, `HERALD_DATABASE_URL: unsupported scheme "mysql" (use sqlite: or postgres:)`},
		{"Queue", map[string]string{"HERALD_REDIS_URL": "http://cache"}, `HERALD_REDIS_URL: unsupported scheme "http" (use redis://, rediss://, redis-sentinel://, redis-socket://, redis-cluster://)`},
		{"Mail", map[string]string{"HERALD_OUTBOX_DIR": ""}, "HERALD_OUTBOX_DIR: is required when HERALD_SMTP_URL is not set"},
		{"Worker", map[string]string{"HERALD_SEND_LEASE": "500ms"}, "HERALD_SEND_LEASE: must be at least 1s"},
		{"Scheduler", map[string]string{"HERALD_TIMEZONE": "Mars/Olympus"}, `HERALD_TIMEZONE: "Mars/Olympus" is not an IANA timezone such as Europe/Berlin`},
		{"Billing", map[string]string{"HERALD_REMINDER_OFFSETS": "0,0"}, "HERALD_REMINDER_OFFSETS: 0 appears twice"},
		{"Feeds", map[string]string{"HERALD_RELEASE_FEEDS": "jira=ftp://example.com"}, `HERALD_RELEASE_FEEDS: feed 1 (ftp://example.com): "ftp://example.com" is not an http(s) URL`},
		{"FeedFromAFile", map[string]string{"HERALD_RELEASE_FEEDS": "jira=file:///etc/passwd"}, `HERALD_RELEASE_FEEDS: feed 1 (file:///etc/passwd): "file:///etc/passwd" is not an http(s) URL`},
		{"FeedMaxBytes", map[string]string{"HERALD_FEED_MAX_BYTES": "0"}, "HERALD_FEED_MAX_BYTES: must be at least 1"},
		{"FeedTimeout", map[string]string{"HERALD_FEED_TIMEOUT": "0s"}, "HERALD_FEED_TIMEOUT: must be positive"},
		{"Lists", map[string]string{"HERALD_PUBLIC_URL": "herald.example.com"}, `HERALD_PUBLIC_URL: "herald.example.com" is not an http(s) URL such as https://herald.example.com`},
		{"DKIM", map[string]string{"HERALD_DKIM_DOMAIN": "example.com", "HERALD_DKIM_SELECTOR": "s1"}, "HERALD_DKIM_KEY_FILE: is required with HERALD_DKIM_DOMAIN and HERALD_DKIM_SELECTOR"},
		{"Log", map[string]string{"HERALD_LOG_FORMAT": "xml"}, `HERALD_LOG_FORMAT: "xml" is not text or json`},
		{"PublicAddr", map[string]string{"HERALD_PUBLIC_ADDR": "8443"}, `HERALD_PUBLIC_ADDR: "8443" is not host:port`},
		{"PublicAddrIsTheAPIs", map[string]string{"HERALD_PUBLIC_ADDR": "127.0.0.1:8080"}, "HERALD_PUBLIC_ADDR: is HERALD_HTTP_ADDR too; give the public pages an address of their own, or leave it unset"},
		{"SignInTTL", map[string]string{"HERALD_SIGNIN_TTL": "30s"}, "HERALD_SIGNIN_TTL: must be between 1m and 24h"},
		{"SessionIdleTimeout", map[string]string{"HERALD_SESSION_IDLE_TIMEOUT": "10s"}, "HERALD_SESSION_IDLE_TIMEOUT: must be at least 1m"},
		{"BounceDomain", map[string]string{"HERALD_BOUNCE_DOMAIN": "bounces@vendor.test"}, `HERALD_BOUNCE_DOMAIN: "bounces@vendor.test" is not a domain such as example.com (write an internationalised one in its xn-- form)`},
		{"BounceDomainOneLabel", map[string]string{"HERALD_BOUNCE_DOMAIN": "localhost"}, `HERALD_BOUNCE_DOMAIN: "localhost" is not a domain such as example.com`},
		{"InboundAddr", map[string]string{"HERALD_BOUNCE_DOMAIN": "bounces.vendor.test", "HERALD_INBOUND_ADDR": "25"}, `HERALD_INBOUND_ADDR: "25" is not host:port`},
		{"InboundWithoutBounceDomain", map[string]string{"HERALD_INBOUND_ADDR": ":25"}, "HERALD_INBOUND_ADDR: needs HERALD_BOUNCE_DOMAIN: the server takes mail for the bounce domain only"},
		{"InboundMaxConnections", map[string]string{"HERALD_INBOUND_MAX_CONNECTIONS": "0"}, "HERALD_INBOUND_MAX_CONNECTIONS: must be between 1 and 10000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load("", env(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err == nil || err.Error() != tc.want {
				t.Errorf("Validate = %v, want %s", err, tc.want)
			}
		})
	}
}

// TestURLWithAnAtInItsUserInformation: a URL setting whose user name or
// password holds an unescaped '@' is refused with a message that says how
// to write it and shows nothing of either; parsers disagree on where such
// user information ends, and one of them prints the rest as a host name.
func TestURLWithAnAtInItsUserInformation(t *testing.T) {
	t.Parallel()
	const (
		inPassword = "the password holds an '@'; write it as %40"
		inUser     = "the user name holds an '@'; write it as %40"
	)
	for _, tc := range []struct{ name, setting, value, want string }{
		{"Database", "HERALD_DATABASE_URL", "postgres://user:S3C@RETpw@127.0.0.1:1/db", "HERALD_DATABASE_URL: " + inPassword},
		{"DatabasePostgresql", "HERALD_DATABASE_URL", "postgresql://user:S3C@RETpw@db/herald?sslmode=require", "HERALD_DATABASE_URL: " + inPassword},
		{"Redis", "HERALD_REDIS_URL", "redis://:S3C@RETpw@cache:6379/0", "HERALD_REDIS_URL: " + inPassword},
		{"RedisTwoAts", "HERALD_REDIS_URL", "rediss://:S3C@RE@Tpw@cache", "HERALD_REDIS_URL: " + inPassword},
		{"SMTP", "HERALD_SMTP_URL", "smtp://apikey:S3C@RETpw@relay:587?tls=starttls", "HERALD_SMTP_URL: " + inPassword},
		{"SMTPUserName", "HERALD_SMTP_URL", "smtp://postmaster@S3CRET.example:RETpw@relay:587", "HERALD_SMTP_URL: " + inUser},
		{"SMTPUserNameOnly", "HERALD_SMTP_URL", "smtp://postmaster@S3CRET.example@relay:587", "HERALD_SMTP_URL: " + inUser},
		{"Feed", "HERALD_RELEASE_FEEDS", "jira=https://bot:S3C@RETpw@feeds.example.com/jira.atom", "HERALD_RELEASE_FEEDS: feed 1 (jira): " + inPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load("", env(map[string]string{tc.setting: tc.value}))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if err == nil || err.Error() != tc.want {
				t.Errorf("%s=%s: Validate = %v, want %s", tc.setting, tc.value, err, tc.want)
			}
		})
	}

	// Encoded, and '@' outside the authority, are fine.
	for setting, value := range map[string]string{
		"HERALD_DATABASE_URL":  "postgres://user:S3C%40RETpw@db:5432/herald",
		"HERALD_SMTP_URL":      "smtp://postmaster%40mg.example:pw@relay:587",
		"HERALD_RELEASE_FEEDS": "npm=https://registry.example.com/@scope/pkg.atom?by=ann@example.com",
	} {
		cfg, err := config.Load("", env(map[string]string{setting: value}))
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			t.Errorf("%s=%s: Validate = %v, want nil", setting, value, err)
		}
	}
}

// TestValidateReportsEveryProblemInOrder checks that one bad value does not
// hide the next, and that problems keep their order across parts of Config.
func TestValidateReportsEveryProblemInOrder(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", env(map[string]string{
		"HERALD_LOG_FORMAT":       "xml",
		"HERALD_DKIM_SELECTOR":    "s1",
		"HERALD_SECRET":           "short",
		"HERALD_REMINDER_OFFSETS": "400",
		"HERALD_RETENTION_DAYS":   "0",
		"HERALD_CHUNK_SIZE":       "0",
		"HERALD_SMTP_CONNECTIONS": "0",
		"HERALD_REDIS_URL":        "http://cache",
		"HERALD_DATABASE_URL":     "sqlite:",
		"HERALD_SHUTDOWN_TIMEOUT": "0s",
		"HERALD_HTTP_ADDR":        "8080",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`HERALD_HTTP_ADDR: "8080" is not host:port`,
		"HERALD_SHUTDOWN_TIMEOUT: must be positive",
		"HERALD_DATABASE_URL: sqlite: needs a file path, as in sqlite:./herald.db",
		`HERALD_REDIS_URL: unsupported scheme "http" (use redis://, rediss://, redis-sentinel://, redis-socket://, redis-cluster://)`,
		"HERALD_SMTP_CONNECTIONS: must be at least 1",
		"HERALD_CHUNK_SIZE: must be at least 1",
		"HERALD_RETENTION_DAYS: must be at least 1",
		"HERALD_REMINDER_OFFSETS: 400 is more than a year from the due date",
		"HERALD_SECRET: must be at least 32 characters",
		"HERALD_DKIM_DOMAIN: is required with HERALD_DKIM_SELECTOR and HERALD_DKIM_KEY_FILE",
		`HERALD_LOG_FORMAT: "xml" is not text or json`,
	}
	err = cfg.Validate()
	if err == nil {
		t.Fatal("Validate = nil, want every problem")
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
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

func TestRate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		text string
		want config.Rate
		bad  bool
	}{
		{text: "14/s", want: config.Rate{N: 14, Per: time.Second}},
		{text: "3000/m", want: config.Rate{N: 3000, Per: time.Minute}},
		{text: " 50000 / d ", want: config.Rate{N: 50000, Per: 24 * time.Hour}},
		{text: "", want: config.Rate{}},
		{text: "14", bad: true},
		{text: "14/w", bad: true},
		{text: "0/s", bad: true},
		{text: "-3/s", bad: true},
		{text: "fast/s", bad: true},
	} {
		var r config.Rate
		err := r.UnmarshalText([]byte(tt.text))
		if tt.bad {
			if err == nil {
				t.Errorf("%q read as %+v, want an error", tt.text, r)
			}
			continue
		}
		if err != nil || r != tt.want {
			t.Errorf("%q = %+v, %v; want %+v", tt.text, r, err, tt.want)
		}
	}
	cfg, err := config.Load("", func(k string) (string, bool) {
		if k == "HERALD_SMTP_RATE" {
			return "200/s", true
		}
		return "", false
	})
	if err != nil || cfg.Mail.SMTPRate.PerSecond() != 200 {
		t.Errorf("HERALD_SMTP_RATE=200/s: %+v, %v", cfg.Mail.SMTPRate, err)
	}
	if _, err := config.Load("", func(k string) (string, bool) { return "lots", k == "HERALD_SMTP_RATE" }); err == nil || !strings.Contains(err.Error(), "HERALD_SMTP_RATE") {
		t.Errorf("a bad HERALD_SMTP_RATE: %v", err)
	}
}

// TestURLSettingsNeverShowTheirPassword gives each URL setting a password
// and a value that is wrong in some way: the error names the setting and
// keeps the password out.
func TestURLSettingsNeverShowTheirPassword(t *testing.T) {
	t.Parallel()
	const password = "pa55-s3cret"
	for _, tc := range []struct{ name, value string }{
		{"HERALD_DATABASE_URL", "postgres://herald:" + password + "@db:port/herald"},
		{"HERALD_DATABASE_URL", "postgres://herald:" + password + "#x@db/herald"},
		{"HERALD_DATABASE_URL", "host=db password=" + password},
		{"HERALD_DATABASE_URL", "mysql://herald:" + password + "@db/herald"},
		{"HERALD_REDIS_URL", "redis://:" + password + "@cache:port"},
		{"HERALD_REDIS_URL", "http://:" + password + "@cache"},
		{"HERALD_SMTP_URL", "smtp://apikey:" + password + "@relay:port"},
		{"HERALD_SMTP_URL", "smtp://apikey:" + password + "%zz@relay"},
		{"HERALD_SMTP_URL", "imap://apikey:" + password + "@relay"},
		{"HERALD_RELEASE_FEEDS", "jira=ftp://bot:" + password + "@feeds.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load("", env(map[string]string{tc.name: tc.value}))
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.name+": ") {
				t.Fatalf("%s=%s: Validate = %v, want an error naming %s", tc.name, tc.value, err, tc.name)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: the error shows the password: %v", tc.name, err)
			}
		})
	}
}

func TestPublicEmailDomains(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      []string
		problem   string
	}{
		{"List", " corp-mail.example, Other.Example ,", []string{"corp-mail.example", "Other.Example"}, ""},
		{"Empty", "", nil, ""},
		{"NotADomain", "corp-mail.example,localhost", nil, "HERALD_PUBLIC_EMAIL_DOMAINS: entry 2"},
		{"AnAddress", "ann@gmail.com", nil, "HERALD_PUBLIC_EMAIL_DOMAINS: entry 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load("", func(name string) (string, bool) {
				if name == "HERALD_PUBLIC_EMAIL_DOMAINS" {
					return tc.raw, true
				}
				return "", false
			})
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) {
					t.Fatalf("Validate() = %v, want a problem with %s", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, []string(cfg.Contacts.PublicEmailDomains)); diff != "" {
				t.Errorf("domains (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw string
		want      []string
		err       string
	}{
		{"Empty", "", nil, ""},
		{"Networks", "10.0.0.0/8, fd00::/8", []string{"10.0.0.0/8", "fd00::/8"}, ""},
		{"BareAddress", "192.0.2.7", []string{"192.0.2.7/32"}, ""},
		{"HostBitsMasked", "10.1.2.3/8", []string{"10.0.0.0/8"}, ""},
		{"NotANetwork", "10.0.0.0/8,proxy.internal", nil, `HERALD_TRUSTED_PROXIES: "proxy.internal" is not a network such as 10.0.0.0/8 or an address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load("", env(map[string]string{"HERALD_TRUSTED_PROXIES": tc.raw}))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Load = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range cfg.HTTP.TrustedProxies {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
