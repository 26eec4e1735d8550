package redact_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/redact"
)

func TestURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ raw, want string }{
		{"postgres://herald:s3cret@db:5432/herald?sslmode=require", "postgres://herald:xxxxx@db:5432/herald?sslmode=require"},
		{"redis://:s3cret@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
		{"smtps://apikey:s3cret@smtp.example.com", "smtps://apikey:xxxxx@smtp.example.com"},
		// Does not parse: the port is not a number.
		{"postgres://herald:s3cret@db:bad/herald", "postgres://herald:xxxxx@db:bad/herald"},
		// Unescaped '@', '/' and '#' in the password.
		{"smtp://ann@example.com:s3@c/r#t@relay:587", "smtp://ann@example.com:xxxxx@relay:587"},
		{"redis://:s3/cret@cache", "redis://:xxxxx@cache"},
		{"postgres://db/herald?user=herald&password=s3cret", "postgres://db/herald?user=herald&password=xxxxx"},
		{"host=db user=herald password=s3cret sslmode=disable", "host=db user=herald password=xxxxx sslmode=disable"},
		{"host=db password='s3 cret'", "host=db password=xxxxx"},
		// Nothing to hide.
		{"redis://cache:6379", "redis://cache:6379"},
		{"smtp://user@relay", "smtp://user@relay"},
		{"sqlite:./herald.db", "sqlite:./herald.db"},
		{"", ""},
	} {
		if got := redact.URL(tc.raw); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ raw, quoted string }{
		{"redis://:s3cret@cache:bad", "s3cret"},
		{"redis://:s3%25cret@cache", "s3%cret"}, // decoded by the parser
		{"postgres://db/herald?password=s3cret", "s3cret"},
	} {
		inner := fmt.Errorf("could not parse %q (password %s): %w", tc.raw, tc.quoted, fs.ErrInvalid)
		err := redact.Error(inner, tc.raw)
		if strings.Contains(err.Error(), "s3") || !strings.Contains(err.Error(), redact.Mask) {
			t.Errorf("Error(%q) = %q", tc.raw, err)
		}
		if !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Error(%q) hides the error it wraps", tc.raw)
		}
	}
	if redact.Error(nil, "redis://:s3cret@cache") != nil {
		t.Error("Error(nil) is not nil")
	}
}
