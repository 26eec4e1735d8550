package fault_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/fault"
)

func TestShorten(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, s string
		max     int
		want    string
	}{
		{"Short", "abc", 5, "abc"},
		{"Exact", "abcde", 5, "abcde"},
		{"Long", "abcdef", 5, "abcde…"},
		{"RunesNotBytes", "ééééé", 5, "ééééé"},
		{"CutBetweenRunes", "éééééé", 5, "ééééé…"},
		{"Empty", "", 5, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fault.Shorten(tc.s, tc.max)
			if got != tc.want || !utf8.ValidString(got) {
				t.Errorf("Shorten(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
			}
		})
	}
}

// status is a named string type, as domain packages pass to messages.
type status string

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestMessagesEchoLittle(t *testing.T) {
	t.Parallel()
	mega := strings.Repeat("é", 1<<20)
	short := `"` + strings.Repeat("é", fault.MaxEcho) + `…"`
	for _, tc := range []struct {
		name string
		err  *fault.Error
		want string
	}{
		{"String", fault.Invalid("id", "%q is not a license id", mega), "id: " + short + " is not a license id"},
		{"NamedString", fault.Invalid("status", "%q is not a status", status(mega)), "status: " + short + " is not a status"},
		{"Bytes", fault.NotFound("%q does not exist", []byte(mega)), short + " does not exist"},
		{"Stringer", fault.Conflict("%q exists", stringer{mega}), short + " exists"},
		{"Field", fault.Invalid(mega, "unknown field"), strings.Repeat("é", fault.MaxEcho) + "…: unknown field"},
		{"Numbers", fault.Invalid("limit", "must be between 1 and %d", 500), "limit: must be between 1 and 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %.300q…, want %q", got, tc.want)
			}
		})
	}

	t.Run("Errors", func(t *testing.T) {
		got := fault.Invalid("body", "%v", errors.New(mega)).Message
		if n := utf8.RuneCountInString(got); n != fault.MaxEchoError+1 {
			t.Errorf("message of %d characters, want %d", n, fault.MaxEchoError+1)
		}
	})

	t.Run("FaultsPassWhole", func(t *testing.T) {
		inner := fault.Invalid("email", "%q is not an email address"+strings.Repeat(", nor is it anything else", 20), strings.Repeat("x", 100))
		outer := fault.Invalid("", "%v (and more words than a hundred characters leave room for)", inner)
		if !strings.Contains(outer.Message, inner.Error()) {
			t.Errorf("the inner fault was cut: %q", outer.Message)
		}
	})
}
