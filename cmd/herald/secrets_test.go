package main_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestURLPasswordsStayOutOfErrors starts herald with a URL setting that
// holds a password and is wrong, either in a way the configuration checks
// find (config's tests have more) or one that only opening it finds: the
// error and the debug log keep the password out.
func TestURLPasswordsStayOutOfErrors(t *testing.T) {
	t.Parallel()
	const password = "pa55-s3cret"
	for _, tc := range []struct{ name, setting, value string }{
		{"DatabaseBadPort", "HERALD_DATABASE_URL", "postgres://herald:" + password + "@db:port/herald"},
		{"RedisBadPort", "HERALD_REDIS_URL", "redis://:" + password + "@cache:port"},
		{"SMTPBadPort", "HERALD_SMTP_URL", "smtp://apikey:" + password + "@relay:port"},
		{"RedisDatabaseNotANumber", "HERALD_REDIS_URL", "redis://:" + password + "@127.0.0.1:1/zero"},
		{"RedisUnreachable", "HERALD_REDIS_URL", "redis://:" + password + "@127.0.0.1:1/0"},
		{"PostgresUnreachable", "HERALD_DATABASE_URL", "postgres://herald:" + password + "@127.0.0.1:1/herald?connect_timeout=2"},
		{"PostgresBadParameter", "HERALD_DATABASE_URL", "postgres://herald:" + password + "@127.0.0.1:1/herald?sslmode=sometimes"},
		{"SMTPBadTLS", "HERALD_SMTP_URL", "smtp://apikey:" + password + "@127.0.0.1:1?tls=sometimes"},
		// An unescaped '@' in the password: pgx would take the piece after
		// it for the host name and print it.
		{"PostgresPasswordWithAnAt", "HERALD_DATABASE_URL", "postgres://herald:pa55@s3cret@127.0.0.1:1/herald?connect_timeout=2"},
		{"RedisPasswordWithAnAt", "HERALD_REDIS_URL", "redis://:pa55@s3cret@127.0.0.1:1/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, herald(t), "serve")
			cmd.Env = []string{tc.setting + "=" + tc.value, "HERALD_HTTP_ADDR=127.0.0.1:0", "HERALD_LOG_LEVEL=debug"}
			cmd.Dir = t.TempDir()
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err == nil || ctx.Err() != nil {
				t.Fatalf("herald serve with a bad %s: %v, want a quick failure\n%s", tc.setting, err, out.String())
			}
			if strings.Contains(out.String(), "pa55") || strings.Contains(out.String(), "s3cret") {
				t.Errorf("the output shows the password of %s:\n%s", tc.setting, out.String())
			}
		})
	}
}
