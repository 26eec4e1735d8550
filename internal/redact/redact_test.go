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
		// Unescaped '@', '/' and '#' in the password: the user information
		// runs to the last '@', whichever '@' a driver splits at.
		{"postgres://user:S3C@RETpw@127.0.0.1:1/db", "postgres://user:xxxxx@127.0.0.1:1/db"},
		{"redis://:a@b@c@cache:6379/0", "redis://:xxxxx@cache:6379/0"},
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

// TestErrorReplacesWholeWords: a driver's message keeps its host names,
// ports and words where a short password happens to be part of them, and
// loses the password wherever it stands on its own, in every form.
func TestErrorReplacesWholeWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, raw, msg, want string }{
		{"ServerWord", "redis://:WRONG@127.0.0.1:16399/0",
			"WRONGPASS invalid username-password pair", "WRONGPASS invalid username-password pair"},
		{"HyphenatedWord", "redis://:password@cache",
			"WRONGPASS invalid username-password pair", "WRONGPASS invalid username-password pair"},
		{"DigitInAddress", "redis://:1@127.0.0.1:16399/0",
			"dial tcp 127.0.0.1:16399: connect: connection refused", "dial tcp 127.0.0.1:16399: connect: connection refused"},
		{"DigitsInPort", "redis://:6399@127.0.0.1:16399/0",
			"dial tcp 127.0.0.1:16399: connect: connection refused", "dial tcp 127.0.0.1:16399: connect: connection refused"},
		{"LetterInHost", "redis://:a@cache.example/0",
			"lookup cache.example: no such host", "lookup cache.example: no such host"},
		{"OnItsOwn", "redis://:s3cret@cache",
			"password s3cret refused", "password xxxxx refused"},
		{"Quoted", "redis://:s3cret@cache",
			`bad password "s3cret"`, `bad password "xxxxx"`},
		{"AtTheEdges", "redis://:s3cret@cache",
			"s3cret", "xxxxx"},
		{"InAURLTheDriverRebuilt", "redis://:s3cret@cache/0",
			"dial redis://:s3cret@cache:6379/0", "dial redis://:xxxxx@cache:6379/0"},
		{"Decoded", "redis://:s3%40cr%2Fet@cache",
			"password s3@cr/et refused", "password xxxxx refused"},
		{"EdgeNotALetter", "redis://:%2Fs3cret%2F@cache",
			"password a/s3cret/b refused", "password axxxxxb refused"},
		// pgx splits the user information at the first '@' and takes the
		// rest of the password for the host.
		{"PieceOfAPasswordWithAnAt", "postgres://user:S3C@RETpw@127.0.0.1:1/db",
			"failed to connect to `user=user database=db`: hostname resolving error: lookup RETpw@127.0.0.1: no such host",
			"failed to connect to `user=user database=db`: hostname resolving error: lookup xxxxx@127.0.0.1: no such host"},
		{"BothPieces", "postgres://user:S3C@RETpw@127.0.0.1:1/db",
			"password S3C for user at RETpw@127.0.0.1", "password xxxxx for user at xxxxx@127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := redact.Error(errors.New(tc.msg), tc.raw)
			if err.Error() != tc.want {
				t.Errorf("Error(%q, %q) = %q, want %q", tc.msg, tc.raw, err, tc.want)
			}
		})
	}
}
