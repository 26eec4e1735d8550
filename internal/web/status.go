package web

import (
	"net/http"

	"github.com/heraldhq/herald/internal/fault"
)

// StatusOf is the one map from the domain's error kinds to HTTP statuses,
// for the API's JSON errors and the pages' alike.
var StatusOf = map[fault.Kind]int{
	fault.KindInvalid:   http.StatusBadRequest,
	fault.KindNotFound:  http.StatusNotFound,
	fault.KindConflict:  http.StatusConflict,
	fault.KindTooLarge:  http.StatusRequestEntityTooLarge,
	fault.KindForbidden: http.StatusForbidden,
}

// Status is the status of err: its kind's, or 500 for an error that is not
// the domain's.
func Status(err error) int {
	if e, ok := fault.As(err); ok {
		if s, ok := StatusOf[e.Kind]; ok {
			return s
		}
	}
	return http.StatusInternalServerError
}
