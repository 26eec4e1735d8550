// Package fault holds the error kinds that herald's domain packages return
// and that the admin API maps to HTTP statuses in one place. A fault carries a
// sentence meant for the person who sent the request; the wrapped chain around
// it is for logs.
package fault

import (
	"errors"
	"fmt"
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
)

// Sentinels for errors.Is: errors.Is(err, fault.ErrNotFound) holds for any
// *Error of that kind anywhere in err's chain.
var (
	ErrInvalid  = &Error{Kind: KindInvalid, Message: "invalid input"}
	ErrNotFound = &Error{Kind: KindNotFound, Message: "not found"}
	ErrConflict = &Error{Kind: KindConflict, Message: "conflict"}
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

// Invalid reports bad input in field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// TooLarge reports a field whose value is over a size limit.
func TooLarge(field, format string, args ...any) *Error {
	return &Error{Kind: KindTooLarge, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that the thing asked for does not exist.
func NotFound(format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf(format, args...)}
}

// Conflict reports a request that breaks a rule or collides with existing data.
func Conflict(format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Message: fmt.Sprintf(format, args...)}
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
