package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/fault"
)

// decodeJSON reads the request body into dst: application/json, at most
// 1 MiB, one object, no unknown fields. An empty body is an error unless
// optional is set, in which case dst is left as it is.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any, optional bool) error {
	body, err := readBody(w, r, maxJSONBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return fault.Invalid("", "a JSON body is required")
	}
	if err := requireMediaType(r, "application/json"); err != nil {
		return err
	}
	if field, why, found := badText(body); found {
		return fault.Invalid(field, "%s", why)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return fault.Invalid("", "unexpected data after the JSON object")
	}
	return nil
}

// readBody reads the whole body up to limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fault.Invalid("", "reading the request body: %v", err)
	}
	return body, nil
}

func requireMediaType(r *http.Request, want string) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != want {
		return unsupportedMediaType(want)
	}
	return nil
}

// jsonError turns encoding/json's errors into invalid-input errors that
// name the field.
func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntax):
		return fault.Invalid("", "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fault.Invalid("", "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fault.Invalid("", "the body must be a JSON object")
		}
		return fault.Invalid(typ.Field, "must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return fault.Invalid(name, "unknown field")
	default:
		return fault.Invalid("", "malformed JSON: %v", err)
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "float64":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return fmt.Sprintf("a %s", goKind)
	}
}

// queryInt parses an optional integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fault.Invalid(name, "%q is not a whole number", v)
	}
	return n, nil
}

// parseTime reads an optional RFC 3339 time; empty is the zero time.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fault.Invalid(field, "%q is not an RFC 3339 time such as 2026-12-01T09:00:00Z", s)
	}
	return t, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
