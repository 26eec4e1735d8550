package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
)

// TestErrorBodyIsBounded checks the last guard: whatever an error holds,
// its answer is at most 64 KiB and still an error object.
func TestErrorBodyIsBounded(t *testing.T) {
	t.Parallel()
	mega := strings.Repeat("\u2028<x>", 1<<18) // escaped by JSON to 6 bytes a rune
	lines := make([]contacts.LineError, 1000)
	for i := range lines {
		lines[i] = contacts.LineError{Line: i + 2, Message: strings.Repeat("m", 500)}
	}
	for _, tc := range []struct {
		name      string
		body      errorBody
		wantLines bool
	}{
		{"HugeMessage", errorBody{Error: errorDetail{Code: "invalid", Message: mega, Field: mega}}, false},
		{"ManyLines", errorBody{Error: errorDetail{Code: "invalid", Message: "1000 bad line(s)"}, Lines: lines, BadLines: 1000}, true},
		{"Both", errorBody{Error: errorDetail{Code: "invalid", Message: mega}, Lines: lines, BadLines: 1000}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeErrorBody(rec, http.StatusBadRequest, tc.body)
			if rec.Code != http.StatusBadRequest || rec.Body.Len() > maxErrorBody {
				t.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
			}
			var got errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Error.Code != "invalid" || got.Error.Message == "" || got.BadLines != tc.body.BadLines || (len(got.Lines) > 0) != tc.wantLines {
				t.Errorf("code %q, message %.80q, %d lines of %d", got.Error.Code, got.Error.Message, len(got.Lines), got.BadLines)
			}
		})
	}
}

// TestEveryFaultKindHasAStatus keeps the one map complete: a kind without
// a status would answer 0, which net/http turns into a panic.
func TestEveryFaultKindHasAStatus(t *testing.T) {
	t.Parallel()
	for kind, want := range map[fault.Kind]int{
		fault.KindInvalid:   http.StatusBadRequest,
		fault.KindNotFound:  http.StatusNotFound,
		fault.KindConflict:  http.StatusConflict,
		fault.KindTooLarge:  http.StatusRequestEntityTooLarge,
		fault.KindForbidden: http.StatusForbidden,
	} {
		rec := httptest.NewRecorder()
		s := &Server{}
		s.writeError(rec, httptest.NewRequest(http.MethodGet, "/api/v1/x", nil), &fault.Error{Kind: kind, Message: "why"})
		var got errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if rec.Code != want || got.Error.Code != string(kind) || got.Error.Message != "why" {
			t.Errorf("%s: status %d, body %+v; want %d", kind, rec.Code, got, want)
		}
	}
}
