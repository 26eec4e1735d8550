// Package config loads herald's one typed configuration: defaults that run on
// a bare machine, then an optional YAML file, then HERALD_* environment
// variables. Every setting has one name: HERALD_HTTP_ADDR in the environment
// is http_addr in the YAML file.
package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/heraldhq/herald/internal/redact"
)

// EnvPrefix is prepended to the upper-cased YAML name of every setting.
const EnvPrefix = "HERALD_"

// Config is everything herald can be told. Sub-structs are inlined so the
// YAML file stays flat, like the environment, while each part of herald is
// handed only the sub-struct it needs.
type Config struct {
	HTTP      HTTP      `yaml:",inline"`
	Database  Database  `yaml:",inline"`
	Queue     Queue     `yaml:",inline"`
	Mail      Mail      `yaml:",inline"`
	Worker    Worker    `yaml:",inline"`
	Templates Templates `yaml:",inline"`
	Scheduler Scheduler `yaml:",inline"`
	Billing   Billing   `yaml:",inline"`
	Feeds     Feeds     `yaml:",inline"`
	Lists     Lists     `yaml:",inline"`
	Contacts  Contacts  `yaml:",inline"`
	DKIM      DKIM      `yaml:",inline"`
	Inbound   Inbound   `yaml:",inline"`
	Portal    Portal    `yaml:",inline"`
	Webhooks  Webhooks  `yaml:",inline"`
	Log       Log       `yaml:",inline"`
}

// Portal configures the contacts portal at /account.
type Portal struct {
	// SignInTTL is how long a sign-in link may be used.
	SignInTTL time.Duration `yaml:"signin_ttl"`
	// SessionIdleTimeout ends a session that made no request for this long.
	SessionIdleTimeout time.Duration `yaml:"session_idle_timeout"`
}

// Lists configures what bulk mail carries so that recipients can leave it
// and mailbox providers trust it.
type Lists struct {
	// PublicURL is the base of links in mail (unsubscribe); Load makes it
	// "http://" + HTTP.Addr when it is not set.
	PublicURL string `yaml:"public_url"`
	// Secret keys unsubscribe links; generated and stored when empty.
	Secret string `yaml:"secret"`
	// UnsubscribeMailto, if set, adds a mailto: unsubscribe address.
	UnsubscribeMailto string `yaml:"unsubscribe_mailto"`
	// Reply-To addresses per kind of mail (optional).
	ReplyToRelease   string `yaml:"reply_to_release"`
	ReplyToBroadcast string `yaml:"reply_to_broadcast"`
	ReplyToInvoice   string `yaml:"reply_to_invoice"`
}

// DKIM configures DKIM signing; all three or none.
type DKIM struct {
	Domain   string `yaml:"dkim_domain"`
	Selector string `yaml:"dkim_selector"`
	KeyFile  string `yaml:"dkim_key_file"`
}

// HTTP configures the admin API.
type HTTP struct {
	// Addr is the listen address of the admin API.
	Addr string `yaml:"http_addr"`
	// AdminToken, when set, is accepted as an API token while it is set:
	// checked in memory, never stored.
	AdminToken string `yaml:"admin_token"`
	// ShutdownTimeout bounds how long in-flight requests may finish on stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MetricsAddr, if set, serves /metrics and /healthz on a listener of
	// its own: for worker and scheduler processes, which have no API.
	MetricsAddr string `yaml:"metrics_addr"`
	// PublicAddr, if set, serves only what the internet may reach (the
	// contacts portal, unsubscribe links) on a listener of its own, and
	// Addr keeps the API. Empty serves everything on Addr.
	PublicAddr string `yaml:"public_addr"`
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client, for the per-client limits of public pages.
	TrustedProxies CIDRs `yaml:"trusted_proxies"`
}

// Database says where the contacts store and the ledger live.
type Database struct {
	// URL is sqlite:PATH or postgres://…
	URL string `yaml:"database_url"`
}

// Queue says where the work queue lives.
type Queue struct {
	// RedisURL is redis://, rediss://, redis-sentinel://, redis-socket:// or
	// redis-cluster://; empty runs an embedded Redis in the process.
	RedisURL string `yaml:"redis_url"`
}

// Mail says how mail leaves.
type Mail struct {
	// SMTPURL is smtp://user:pass@host:port?tls=starttls|tls|none; empty
	// writes .eml files into OutboxDir instead.
	SMTPURL         string `yaml:"smtp_url"`
	OutboxDir       string `yaml:"outbox_dir"`
	From            string `yaml:"from"`
	SMTPConnections int    `yaml:"smtp_connections"`
	// SMTPRate caps the messages sent across every process (none when
	// zero); herald lowers it when the relay throttles.
	SMTPRate Rate `yaml:"smtp_rate"`
}

// Worker tunes the sending.
type Worker struct {
	Concurrency int `yaml:"worker_concurrency"`
	ChunkSize   int `yaml:"chunk_size"`
	// FanoutPage is how many deliveries the first page of a fan-out
	// holds: they are inserted and enqueued at once, the rest after.
	FanoutPage      int           `yaml:"fanout_page"`
	SendMaxAttempts int           `yaml:"send_max_attempts"`
	SendRetryBase   time.Duration `yaml:"send_retry_base"`
	SendLease       time.Duration `yaml:"send_lease"`
	// SendMaxThrottles is how many throttling replies a delivery may get,
	// each given back untried, before it is failed.
	SendMaxThrottles int `yaml:"send_max_throttles"`
	// SendUnrecorded is how many messages one process may have handed to
	// the SMTP server whose outcome is not yet written: the most a crash
	// of the process can send twice. Outcomes are written in groups of up
	// to this many.
	SendUnrecorded int `yaml:"send_unrecorded"`
}

// Templates says where template overrides are.
type Templates struct {
	Dir string `yaml:"templates_dir"`
}

// Scheduler configures the periodic jobs. Schedules are standard cron specs
// (minute hour day month weekday, "@every 15m", "CRON_TZ=Europe/Berlin 0 9 * * *").
type Scheduler struct {
	// Timezone is the zone of the cron schedules.
	Timezone string `yaml:"timezone"`
	// ReconcileInterval is how often the reconciler runs.
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	InvoiceReminders  string        `yaml:"schedule_invoice_reminders"`
	Announcements     string        `yaml:"schedule_announcements"`
	ReleaseFeeds      string        `yaml:"schedule_release_feeds"`
	Retention         string        `yaml:"schedule_retention"`
	RetentionDays     int           `yaml:"retention_days"`
}

// Billing configures invoice reminders.
type Billing struct {
	// ReminderOffsets are the reminder days relative to the due date.
	ReminderOffsets []int `yaml:"reminder_offsets"`
	// ReminderAllFrom is the offset from which every billing contact is
	// reminded; before it only the main billing contact.
	ReminderAllFrom int `yaml:"reminder_all_from"`
	// PaymentURLTemplate is a Go template of the payment link, executed on
	// .Invoice (Number, LicenseID, AmountMinor, Currency, DueDate) and
	// .License (ID, Name).
	PaymentURLTemplate string `yaml:"payment_url_template"`
}

// Feeds configures the release feeds.
type Feeds struct {
	ReleaseFeeds ReleaseFeeds `yaml:"release_feeds"`
	// MaxBytes bounds what is read of one feed: a larger feed is an
	// error, and nothing of it is announced.
	MaxBytes int `yaml:"feed_max_bytes"`
	// Timeout bounds one feed's fetch, redirects and body included.
	Timeout time.Duration `yaml:"feed_timeout"`
}

// Location returns the schedules' timezone.
func (s Scheduler) Location() (*time.Location, error) { return time.LoadLocation(s.Timezone) }

// Log configures the process logger.
type Log struct {
	Level  string `yaml:"log_level"`
	Format string `yaml:"log_format"`
}

// Default returns the configuration of a bare machine: SQLite in the working
// directory, the API on loopback.
func Default() Config {
	return Config{
		HTTP: HTTP{
			Addr:            "127.0.0.1:8080",
			ShutdownTimeout: 15 * time.Second,
		},
		Database: Database{URL: "sqlite:./herald.db"},
		Mail: Mail{
			OutboxDir:       "./outbox",
			From:            "herald <herald@localhost>",
			SMTPConnections: 4,
		},
		Worker: Worker{
			Concurrency:      10,
			ChunkSize:        100,
			FanoutPage:       1000,
			SendMaxAttempts:  8,
			SendRetryBase:    30 * time.Second,
			SendLease:        60 * time.Second,
			SendMaxThrottles: 50,
			SendUnrecorded:   64,
		},
		Scheduler: Scheduler{
			Timezone:          "UTC",
			ReconcileInterval: 15 * time.Second,
			InvoiceReminders:  "0 9 * * *",
			Announcements:     "* * * * *",
			ReleaseFeeds:      "*/15 * * * *",
			Retention:         "30 3 * * *",
			RetentionDays:     90,
		},
		Billing: Billing{ReminderOffsets: []int{-7, 0, 7, 14}},
		Feeds:   Feeds{MaxBytes: 10 << 20, Timeout: time.Minute},
		Lists:   Lists{PublicURL: defaultPublicURL("127.0.0.1:8080")},
		Portal:  Portal{SignInTTL: 15 * time.Minute, SessionIdleTimeout: time.Hour},
		Inbound: Inbound{MaxConnections: 50},
		Log:     Log{Level: "info", Format: "text"},
	}
}

// Load builds the configuration from the defaults, the YAML file at path (if
// path is not empty) and the environment as given by lookup (os.LookupEnv in
// production). It does not validate: call Validate.
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	cfg := Default()
	cfg.Lists.PublicURL = "" // follows HERALD_HTTP_ADDR unless set
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("HERALD_CONFIG: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		// An empty file decodes as io.EOF: it sets nothing, which is fine.
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("HERALD_CONFIG %s: %w", path, err)
		}
	}
	var errs []error
	for _, s := range settings(&cfg) {
		raw, ok := lookup(s.env)
		if !ok {
			continue
		}
		if err := s.set(raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.env, err))
		}
	}
	if cfg.Lists.PublicURL == "" {
		cfg.Lists.PublicURL = defaultPublicURL(cfg.HTTP.Addr)
	}
	return cfg, errors.Join(errs...)
}

// Validate checks every setting and returns all problems at once, each
// naming its environment variable.
func (c Config) Validate() error {
	return errors.Join(slices.Concat(
		c.HTTP.validate(),
		c.Database.validate(),
		c.Queue.validate(),
		c.Mail.validate(),
		c.Worker.validate(),
		c.Scheduler.validate(),
		c.Billing.validate(),
		c.Lists.validate(),
		c.Contacts.validate(),
		c.DKIM.validate(),
		c.Inbound.validate(),
		c.Feeds.validate(),
		c.Portal.validate(),
		c.Webhooks.validate(),
		c.Log.validate(),
	)...)
}

// problems collects what is wrong rather than stopping at the first, so that
// one run of herald reports everything to fix.
type problems []error

// add records a problem with setting, named as in the environment.
func (p *problems) add(setting, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s%s: %s", EnvPrefix, setting, fmt.Sprintf(format, args...)))
}

// atLeastOne records a problem with a count that would leave herald doing
// nothing.
func (p *problems) atLeastOne(setting string, n int) {
	if n < 1 {
		p.add(setting, "must be at least 1")
	}
}

func (h HTTP) validate() problems {
	var p problems
	if _, _, err := net.SplitHostPort(h.Addr); err != nil {
		p.add("HTTP_ADDR", "%q is not host:port", h.Addr)
	}
	if _, _, err := net.SplitHostPort(h.MetricsAddr); h.MetricsAddr != "" && err != nil {
		p.add("METRICS_ADDR", "%q is not host:port", h.MetricsAddr)
	}
	if _, _, err := net.SplitHostPort(h.PublicAddr); h.PublicAddr != "" && err != nil {
		p.add("PUBLIC_ADDR", "%q is not host:port", h.PublicAddr)
	}
	if h.PublicAddr != "" && h.PublicAddr == h.Addr {
		p.add("PUBLIC_ADDR", "is HERALD_HTTP_ADDR too; give the public pages an address of their own, or leave it unset")
	}
	if h.AdminToken != "" && len(h.AdminToken) < 16 {
		p.add("ADMIN_TOKEN", "must be at least 16 characters")
	}
	if h.ShutdownTimeout <= 0 {
		p.add("SHUTDOWN_TIMEOUT", "must be positive")
	}
	return p
}

func (d Database) validate() problems {
	var p problems
	if err := validateDatabaseURL(d.URL); err != nil {
		p.add("DATABASE_URL", "%v", err)
	}
	return p
}

func (q Queue) validate() problems {
	var p problems
	if err := validateURL(q.RedisURL, "redis", "rediss", "redis-sentinel", "redis-socket", "redis-cluster"); err != nil {
		p.add("REDIS_URL", "%v", err)
	}
	return p
}

func (m Mail) validate() problems {
	var p problems
	if err := validateURL(m.SMTPURL, "smtp", "smtps"); err != nil {
		p.add("SMTP_URL", "%v", err)
	}
	if m.SMTPURL == "" && m.OutboxDir == "" {
		p.add("OUTBOX_DIR", "is required when HERALD_SMTP_URL is not set")
	}
	if addr, err := mail.ParseAddress(m.From); err != nil || !strings.Contains(addr.Address, "@") {
		p.add("FROM", "%q is not an address such as \"herald <herald@example.com>\"", m.From)
	}
	p.atLeastOne("SMTP_CONNECTIONS", m.SMTPConnections)
	return p
}

func (w Worker) validate() problems {
	var p problems
	p.atLeastOne("WORKER_CONCURRENCY", w.Concurrency)
	p.atLeastOne("CHUNK_SIZE", w.ChunkSize)
	p.atLeastOne("FANOUT_PAGE", w.FanoutPage)
	p.atLeastOne("SEND_MAX_ATTEMPTS", w.SendMaxAttempts)
	p.atLeastOne("SEND_MAX_THROTTLES", w.SendMaxThrottles)
	p.atLeastOne("SEND_UNRECORDED", w.SendUnrecorded)
	if w.SendRetryBase <= 0 {
		p.add("SEND_RETRY_BASE", "must be positive")
	}
	if w.SendLease < time.Second {
		p.add("SEND_LEASE", "must be at least 1s")
	}
	return p
}

func (s Scheduler) validate() problems {
	var p problems
	// LoadLocation("") is UTC, but an empty timezone is more likely a
	// mistake than a choice.
	if _, err := s.Location(); err != nil || s.Timezone == "" {
		p.add("TIMEZONE", "%q is not an IANA timezone such as Europe/Berlin", s.Timezone)
	}
	if s.ReconcileInterval < time.Second {
		p.add("RECONCILE_INTERVAL", "must be at least 1s")
	}
	p.atLeastOne("RETENTION_DAYS", s.RetentionDays)
	return p
}

func (b Billing) validate() problems {
	var p problems
	if len(b.ReminderOffsets) == 0 {
		p.add("REMINDER_OFFSETS", "needs at least one day offset, such as -7,0,7,14")
	}
	seen := map[int]bool{}
	for _, o := range b.ReminderOffsets {
		if seen[o] {
			p.add("REMINDER_OFFSETS", "%d appears twice", o)
		}
		seen[o] = true
		if o < -365 || o > 365 {
			p.add("REMINDER_OFFSETS", "%d is more than a year from the due date", o)
		}
	}
	if t := b.PaymentURLTemplate; t != "" {
		if _, err := template.New("payment_url").Option("missingkey=error").Parse(t); err != nil {
			p.add("PAYMENT_URL_TEMPLATE", "%v", err)
		}
	}
	return p
}

func (l Lists) validate() problems {
	var p problems
	if u, err := url.Parse(l.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		p.add("PUBLIC_URL", "%q is not an http(s) URL such as https://herald.example.com", l.PublicURL)
	}
	if l.Secret != "" && len(l.Secret) < 32 {
		p.add("SECRET", "must be at least 32 characters")
	}
	// The address goes into List-Unsubscribe as mailto:ADDR, where a display
	// name or angle brackets would break the header.
	if m := l.UnsubscribeMailto; m != "" {
		if _, err := mail.ParseAddress(m); err != nil || strings.ContainsAny(m, "<> ") {
			p.add("UNSUBSCRIBE_MAILTO", "%q is not a bare address such as unsubscribe@example.com", m)
		}
	}
	for _, r := range [][2]string{{"REPLY_TO_RELEASE", l.ReplyToRelease}, {"REPLY_TO_BROADCAST", l.ReplyToBroadcast}, {"REPLY_TO_INVOICE", l.ReplyToInvoice}} {
		if _, err := mail.ParseAddress(r[1]); r[1] != "" && err != nil {
			p.add(r[0], "%q is not an address", r[1])
		}
	}
	return p
}

func (d DKIM) validate() problems {
	if d == (DKIM{}) {
		return nil
	}
	var p problems
	switch {
	case d.Domain == "":
		p.add("DKIM_DOMAIN", "is required with HERALD_DKIM_SELECTOR and HERALD_DKIM_KEY_FILE")
	case d.Selector == "":
		p.add("DKIM_SELECTOR", "is required with HERALD_DKIM_DOMAIN and HERALD_DKIM_KEY_FILE")
	case d.KeyFile == "":
		p.add("DKIM_KEY_FILE", "is required with HERALD_DKIM_DOMAIN and HERALD_DKIM_SELECTOR")
	}
	return p
}

func (f Feeds) validate() problems {
	var p problems
	for i, feed := range f.ReleaseFeeds {
		// Named by its product: the redacted URL would still show the
		// user name, part of which may be the password.
		if err := oneAt(feed.URL); err != nil {
			p.add("RELEASE_FEEDS", "feed %d (%s): %v", i+1, feed.Product, err)
			continue
		}
		if err := feed.validate(); err != nil {
			p.add("RELEASE_FEEDS", "feed %d (%s): %v", i+1, redact.URL(feed.URL), redact.Error(err, feed.URL))
		}
	}
	p.atLeastOne("FEED_MAX_BYTES", f.MaxBytes)
	if f.Timeout <= 0 {
		p.add("FEED_TIMEOUT", "must be positive")
	}
	return p
}

func (p Portal) validate() problems {
	var ps problems
	if p.SignInTTL < time.Minute || p.SignInTTL > 24*time.Hour {
		ps.add("SIGNIN_TTL", "must be between 1m and 24h")
	}
	if p.SessionIdleTimeout < time.Minute {
		ps.add("SESSION_IDLE_TIMEOUT", "must be at least 1m")
	}
	return ps
}

func (l Log) validate() problems {
	var p problems
	if _, err := l.SlogLevel(); err != nil {
		p.add("LOG_LEVEL", "%v", err)
	}
	if l.Format != "text" && l.Format != "json" {
		p.add("LOG_FORMAT", "%q is not text or json", l.Format)
	}
	return p
}

func validateDatabaseURL(raw string) error {
	if raw == "" {
		return errors.New("empty (use sqlite:PATH or postgres://…)")
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return fmt.Errorf("%q has no scheme (use sqlite: or postgres:)", redact.URL(raw))
	}
	switch scheme {
	case "sqlite":
		if strings.TrimPrefix(rest, "//") == "" {
			return errors.New("sqlite: needs a file path, as in sqlite:./herald.db")
		}
	case "postgres", "postgresql":
		if err := oneAt(raw); err != nil {
			return err
		}
		if _, err := url.Parse(raw); err != nil {
			return notAURL(raw)
		}
	default:
		return fmt.Errorf("unsupported scheme %q (use sqlite: or postgres:)", scheme)
	}
	return nil
}

// validateURL checks that raw, if set, is a URL of one of schemes.
func validateURL(raw string, schemes ...string) error {
	if raw == "" {
		return nil
	}
	if err := oneAt(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return notAURL(raw)
	}
	if !slices.Contains(schemes, u.Scheme) {
		return fmt.Errorf("unsupported scheme %q (use %s://)", u.Scheme, strings.Join(schemes, "://, "))
	}
	return nil
}

// oneAt refuses a URL whose authority holds more than one '@', an
// unescaped '@' in the user name or password. Parsers disagree on where
// such user information ends: Go's URL parser (and redact) at the last '@',
// pgx at the first, which then takes the rest of the password for the host
// and prints it in its errors. The message quotes nothing of the user
// information.
func oneAt(raw string) error {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil
	}
	authority, _, _ := strings.Cut(rest, "/")
	authority, _, _ = strings.Cut(authority, "?")
	authority, _, _ = strings.Cut(authority, "#")
	userinfo, _, ok := cutLast(authority, "@")
	if !ok || !strings.Contains(userinfo, "@") {
		return nil
	}
	if user, _, ok := strings.Cut(userinfo, ":"); ok && !strings.Contains(user, "@") {
		return errors.New("the password holds an '@'; write it as %40")
	}
	return errors.New("the user name holds an '@'; write it as %40")
}

// cutLast is strings.Cut at the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

// notAURL says that raw does not parse, without the parser's message: it
// quotes the URL, password and all, and a password with an unescaped '#'
// or '/' is cut into pieces that no redaction of the whole would find.
func notAURL(raw string) error {
	return fmt.Errorf("%q is not a URL (percent-encode special characters in the user name and password)", redact.URL(raw))
}

// SlogLevel parses the configured level.
func (l Log) SlogLevel() (slog.Level, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.Level)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", l.Level)
	}
	return level, nil
}

// setting is one leaf of Config, addressed by its environment name.
type setting struct {
	env   string
	value reflect.Value
}

// settings walks Config's fields (through inlined sub-structs) and returns
// one setting per leaf, named after its YAML key.
func settings(cfg *Config) []setting {
	var out []setting
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			tag := t.Field(i).Tag.Get("yaml")
			if tag == ",inline" {
				walk(v.Field(i))
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			out = append(out, setting{env: EnvPrefix + strings.ToUpper(name), value: v.Field(i)})
		}
	}
	walk(reflect.ValueOf(cfg).Elem())
	return out
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	textType     = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (s setting) set(raw string) error {
	v := s.value
	switch {
	case v.Addr().Type().Implements(textType):
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(raw))
	case v.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 5m", raw)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Int:
		var ns []int
		for part := range strings.SplitSeq(raw, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil {
				return fmt.Errorf("%q is not a comma-separated list of whole numbers", raw)
			}
			ns = append(ns, n)
		}
		v.Set(reflect.ValueOf(ns))
	default:
		return fmt.Errorf("setting of type %s cannot be read from the environment", v.Type())
	}
	return nil
}

// Names lists every environment variable herald reads, for documentation
// and for tests that keep the README table complete.
func Names() []string {
	var cfg Config
	var names []string
	for _, s := range settings(&cfg) {
		names = append(names, s.env)
	}
	return names
}
