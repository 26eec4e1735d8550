// Package fault holds the error kinds that herald's domain packages return
// and that the admin API maps to HTTP statuses in one place. A fault carries a
// sentence meant for the person who sent the request; the wrapped chain around
// it is for logs.
package fault

import (
	"errors"
	"fmt"
	"reflect"
)

// Kind says what went wrong, independent of the transport.
type Kind string

const (
	KindInvalid  Kind = "invalid"
	KindNotFound Kind = "not_found"
	KindConflict Kind = "conflict"
	// KindTooLarge is input over a size limit, such as release notes over
	// 64 KiB: the API answers 413.
	KindTooLarge Kind = "too_large"
	// KindForbidden is a change the rules do not let this person make,
	// such as a customer making a colleague of another company the main
	// contact: the API answers 403.
	KindForbidden Kind = "forbidden"
)

// Sentinels for errors.Is: errors.Is(err, fault.ErrNotFound) holds for any
// *Error of that kind anywhere in err's chain.
var (
	ErrInvalid   = &Error{Kind: KindInvalid, Message: "invalid input"}
	ErrNotFound  = &Error{Kind: KindNotFound, Message: "not found"}
	ErrConflict  = &Error{Kind: KindConflict, Message: "conflict"}
	ErrForbidden = &Error{Kind: KindForbidden, Message: "forbidden"}
)

// Error is a domain error with a message for the user and, for invalid input,
// the JSON path of the field at fault.
type Error struct {
	Kind    Kind
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Is makes errors.Is match by kind, so callers compare with the sentinels.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Field == "" || t.Field == e.Field)
}

// Invalid reports bad input in field. Field and the values in args are
// shortened (see Sprintf): a message quotes what was sent, never all of it.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: Shorten(field, MaxEcho), Message: Sprintf(format, args...)}
}

// TooLarge reports a field whose value is over a size limit.
func TooLarge(field, format string, args ...any) *Error {
	return &Error{Kind: KindTooLarge, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that the thing asked for does not exist.
func NotFound(format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Message: Sprintf(format, args...)}
}

// Forbidden reports a change that the rules do not let its maker make;
// the message says why, in words the person can act on.
func Forbidden(format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Message: Sprintf(format, args...)}
}

// Conflict reports a request that breaks a rule or collides with existing data.
func Conflict(format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Message: Sprintf(format, args...)}
}

// How much of a value an error message echoes, in characters. A value is
// quoted so that its sender finds it, and 100 characters do that; a
// megabyte sent back, or a megabyte of escapes, amplifies the request into
// the answer and the logs. An error's own text gets more room, since it is
// a sentence that may quote a value.
const (
	MaxEcho      = 100
	MaxEchoError = 300
)

// Sprintf formats as fmt.Sprintf does, with every text argument (a string
// of any string type, a byte slice, a fmt.Stringer or an error) shortened
// to MaxEcho characters (MaxEchoError for an error) first. A *Error is
// passed as it is: it was shortened when it was made.
func Sprintf(format string, args ...any) string {
	short := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case *Error:
			short[i] = v
		case error:
			short[i] = Shorten(v.Error(), MaxEchoError)
		case fmt.Stringer:
			short[i] = Shorten(v.String(), MaxEcho)
		case []byte:
			short[i] = Shorten(string(v), MaxEcho)
		default:
			// Named string types too (a Status, a Role): they hold what
			// was sent as much as a string does.
			if rv := reflect.ValueOf(a); rv.Kind() == reflect.String {
				short[i] = Shorten(rv.String(), MaxEcho)
			} else {
				short[i] = a
			}
		}
	}
	return fmt.Sprintf(format, short...)
}

// Shorten returns s if it has at most max characters, else its first max
// characters and an ellipsis. It cuts between runes, never inside one.
func Shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// As returns the first *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// WithPrefix returns a copy of err whose field is nested under prefix, for
// validation errors of an element in a list ("contacts[2]" + "email").
func WithPrefix(prefix string, err error) error {
	e, ok := As(err)
	if !ok || e.Kind != KindInvalid {
		return err
	}
	field := prefix
	if e.Field != "" {
		field = prefix + "." + e.Field
	}
	return &Error{Kind: e.Kind, Field: field, Message: e.Message}
}
