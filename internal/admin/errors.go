package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/web"
)

// errorBody is the error shape of API.md.
type errorBody struct {
	Error errorDetail          `json:"error"`
	Lines []contacts.LineError `json:"lines,omitempty"`
	// BadLines counts the bad lines of an import; Lines lists the first.
	BadLines int `json:"bad_lines,omitempty"`
}

// maxErrorBody bounds every error answer. The messages quote at most a
// little of what was sent and an import lists at most its first bad
// lines, so an answer is a few KiB; this is the last guard, should a
// message ever quote more.
const maxErrorBody = 64 << 10

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// httpError is an error of the HTTP layer itself (auth, media type, size).
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

var (
	errUnauthorized = &httpError{http.StatusUnauthorized, "unauthorized", "a valid token is required: Authorization: Bearer <token>"}
	errTooLarge     = &httpError{http.StatusRequestEntityTooLarge, "too_large", "the request body is too large"}
)

func unsupportedMediaType(want string) error {
	return &httpError{http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type must be " + want}
}

// writeError answers with the status and body that err calls for. Errors
// that are not the client's fault are logged and answered as 500 without
// their details.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		he     *httpError
		mbe    *http.MaxBytesError
		impErr *contacts.ImportError
	)
	switch {
	case errors.As(err, &he):
		if he.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
		}
		writeJSONError(w, he.status, he.code, he.message, "")
	case errors.As(err, &mbe):
		writeJSONError(w, http.StatusRequestEntityTooLarge, errTooLarge.code, errTooLarge.message+": the limit is "+humanBytes(mbe.Limit), "")
	case errors.As(err, &impErr):
		writeErrorBody(w, http.StatusBadRequest, errorBody{
			Error:    errorDetail{Code: string(fault.KindInvalid), Message: impErr.Error()},
			Lines:    impErr.Lines,
			BadLines: impErr.BadLines,
		})
	default:
		if f, ok := fault.As(err); ok {
			writeJSONError(w, web.Status(f), string(f.Kind), f.Message, f.Field)
			return
		}
		s.logger.Error("request failed", "method", r.Method, "path", loggedPath(r.URL.Path), "err", err)
		writeJSONError(w, http.StatusInternalServerError, "internal", "internal error; the server log has the details", "")
	}
}

func writeJSONError(w http.ResponseWriter, status int, code, message, field string) {
	writeErrorBody(w, status, errorBody{Error: errorDetail{Code: code, Message: message, Field: field}})
}

// writeErrorBody writes every error answer, at most maxErrorBody bytes of
// it: past that it drops lines, then shortens the message and field.
func writeErrorBody(w http.ResponseWriter, status int, body errorBody) {
	for shortened := false; ; {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			body = errorBody{Error: errorDetail{Code: body.Error.Code, Message: "the error could not be encoded"}}
			continue
		}
		if buf.Len() <= maxErrorBody {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(buf.Bytes()) // the client went away; nothing to tell it
			return
		}
		switch {
		case len(body.Lines) > 0:
			body.Lines = body.Lines[:len(body.Lines)/2]
		case !shortened:
			body.Error.Message = fault.Shorten(body.Error.Message, fault.MaxEchoError)
			body.Error.Field = fault.Shorten(body.Error.Field, fault.MaxEcho)
			shortened = true
		default:
			body = errorBody{Error: errorDetail{Code: fault.Shorten(body.Error.Code, fault.MaxEcho), Message: "the error is too long to tell"}}
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to tell it
}

// noRoute turns the mux's plain-text 404 and 405 into API errors under
// /api/v1, keeping the Allow header of a 405.
func (s *Server) noRoute(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r)
			return
		}
		probe := &headerOnly{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		method, path := fault.Shorten(r.Method, fault.MaxEcho), fault.Shorten(r.URL.Path, fault.MaxEcho)
		if probe.status == http.StatusMethodNotAllowed {
			writeJSONError(w, probe.status, "method_not_allowed", method+" is not allowed on "+path+"; allowed: "+probe.header.Get("Allow"), "")
			return
		}
		writeJSONError(w, http.StatusNotFound, "not_found", "no such route: "+method+" "+path, "")
	})
}

// headerOnly records the status and headers of a response and drops its body.
type headerOnly struct {
	header http.Header
	status int
}

func (h *headerOnly) Header() http.Header         { return h.header }
func (h *headerOnly) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerOnly) WriteHeader(code int)        { h.status = code }

func stack() string { return string(debug.Stack()) }

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	default:
		return strconv.FormatInt(n, 10) + " bytes"
	}
}
