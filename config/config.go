// Package config loads herald's one typed configuration: defaults that run on
// a bare machine, then an optional YAML file, then HERALD_* environment
// variables. Every setting has one name: HERALD_HTTP_ADDR in the environment
// is http_addr in the YAML file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix is prepended to the upper-cased YAML name of every setting.
const EnvPrefix = "HERALD_"

// Config is everything herald can be told. Sub-structs are inlined so the
// YAML file stays flat, like the environment, while each part of herald is
// handed only the sub-struct it needs.
type Config struct {
	HTTP     HTTP     `yaml:",inline"`
	Database Database `yaml:",inline"`
	Log      Log      `yaml:",inline"`
}

// HTTP configures the admin API.
type HTTP struct {
	// Addr is the listen address of the admin API.
	Addr string `yaml:"http_addr"`
	// AdminToken, when set, is accepted as an API token (stored hashed at start).
	AdminToken string `yaml:"admin_token"`
	// ShutdownTimeout bounds how long in-flight requests may finish on stop.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Database says where the contacts store and the ledger live.
type Database struct {
	// URL is sqlite:PATH or postgres://…
	URL string `yaml:"database_url"`
}

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
		Log:      Log{Level: "info", Format: "text"},
	}
}

// Load builds the configuration from the defaults, the YAML file at path (if
// path is not empty) and the environment as given by lookup (os.LookupEnv in
// production). It does not validate: call Validate.
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	cfg := Default()
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
	return cfg, errors.Join(errs...)
}

// Validate checks every setting and returns all problems at once, each
// naming its environment variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", EnvPrefix, setting, fmt.Sprintf(format, args...)))
	}

	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("HTTP_ADDR", "%q is not host:port", c.HTTP.Addr)
	}
	if c.HTTP.AdminToken != "" && len(c.HTTP.AdminToken) < 16 {
		bad("ADMIN_TOKEN", "must be at least 16 characters")
	}
	if c.HTTP.ShutdownTimeout <= 0 {
		bad("SHUTDOWN_TIMEOUT", "must be positive")
	}
	if err := validateDatabaseURL(c.Database.URL); err != nil {
		bad("DATABASE_URL", "%v", err)
	}
	if _, err := c.Log.SlogLevel(); err != nil {
		bad("LOG_LEVEL", "%v", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("LOG_FORMAT", "%q is not text or json", c.Log.Format)
	}
	return errors.Join(errs...)
}

func validateDatabaseURL(raw string) error {
	if raw == "" {
		return errors.New("empty (use sqlite:PATH or postgres://…)")
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return fmt.Errorf("%q has no scheme (use sqlite: or postgres:)", raw)
	}
	switch scheme {
	case "sqlite":
		if strings.TrimPrefix(rest, "//") == "" {
			return errors.New("sqlite: needs a file path, as in sqlite:./herald.db")
		}
	case "postgres", "postgresql":
		if _, err := url.Parse(raw); err != nil {
			return fmt.Errorf("not a URL: %v", err)
		}
	default:
		return fmt.Errorf("unsupported scheme %q (use sqlite: or postgres:)", scheme)
	}
	return nil
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

var durationType = reflect.TypeFor[time.Duration]()

func (s setting) set(raw string) error {
	v := s.value
	switch {
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
