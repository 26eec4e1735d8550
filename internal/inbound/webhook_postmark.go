package inbound

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/bounce"
)

// postmarkAuth is the basic auth Postmark's webhook URL carries, kept as
// hashes so that comparing takes the same time whatever the lengths.
type postmarkAuth struct {
	user, pass [sha256.Size]byte
}

func newPostmarkAuth(userPass string) *postmarkAuth {
	user, pass, _ := strings.Cut(userPass, ":")
	return &postmarkAuth{user: sha256.Sum256([]byte(user)), pass: sha256.Sum256([]byte(pass))}
}

func (a *postmarkAuth) check(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	u, p := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	// Both compared, always: a wrong user takes as long as a wrong password.
	return subtle.ConstantTimeCompare(u[:], a.user[:])&subtle.ConstantTimeCompare(p[:], a.pass[:]) == 1 && ok
}

// postmarkRecord is a Postmark bounce or spam complaint webhook (both have
// this shape; RecordType tells them apart). ID is Postmark's bounce id.
type postmarkRecord struct {
	RecordType string          `json:"RecordType"`
	ID         json.Number     `json:"ID"`
	Type       string          `json:"Type"`
	MessageID  string          `json:"MessageID"`
	Details    string          `json:"Details"`
	Email      string          `json:"Email"`
	BouncedAt  string          `json:"BouncedAt"`
	Metadata   json.RawMessage `json:"Metadata"`
}

// postmarkKinds are the bounce types that are herald's business. The
// others (AutoResponder, Subscribe, Unsubscribe, AddressChange,
// ChallengeVerification, OpenRelayTest…) are not about delivery.
var postmarkKinds = map[string]bounce.Kind{
	"HardBounce":        bounce.Hard,
	"BadEmailAddress":   bounce.Hard,
	"SoftBounce":        bounce.Soft,
	"DnsError":          bounce.Soft,
	"SpamNotification":  bounce.Soft,
	"VirusNotification": bounce.Soft,
	"Blocked":           bounce.Soft,
	"DMARCPolicy":       bounce.Soft,
	"Transient":         bounce.Delay, // Postmark: "message delayed"
	"SpamComplaint":     bounce.Complaint,
}

// postmarkEvents reads a Postmark webhook: HTTP basic auth, one record.
// Postmark replaces the Message-ID, so the delivery is named by the token
// that herald's message carried as X-PM-Metadata-herald-delivery and
// Postmark echoes in Metadata.
func (w *Webhooks) postmarkEvents(_ context.Context, r *http.Request, body []byte) ([]report, error) {
	if !w.postmark.check(r) {
		return nil, unauthorized("HTTP basic auth with HERALD_POSTMARK_WEBHOOK_AUTH is required")
	}
	var rec postmarkRecord
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, malformed("the body is not a Postmark webhook record: %s", jsonProblem(err))
	}
	if rec.RecordType != "Bounce" && rec.RecordType != "SpamComplaint" {
		if rec.RecordType == "" {
			return nil, malformed("RecordType is missing")
		}
		w.ignored(SourcePostmark)
		return nil, nil
	}
	kind := postmarkKinds[rec.Type]
	if rec.RecordType == "SpamComplaint" {
		kind = bounce.Complaint
	}
	if kind == "" {
		w.ignored(SourcePostmark)
		return nil, nil
	}
	id, err := strconv.ParseInt(rec.ID.String(), 10, 64)
	if err != nil || id <= 0 {
		return nil, malformed("ID is not a Postmark bounce id")
	}
	e := bounce.Event{Kind: kind, Recipient: recipient(rec.Email), EventID: strconv.FormatInt(id, 10), At: parseTime(rec.BouncedAt)}
	if kind != bounce.Complaint {
		failure(&e, "", rec.Details)
	}
	return []report{{event: e, token: postmarkToken(rec.Metadata)}}, nil
}

// postmarkToken is the delivery token in a record's Metadata, if any.
// Postmark keeps metadata values as strings; anything else is no token.
func postmarkToken(raw json.RawMessage) string {
	var meta map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &meta) != nil {
		return ""
	}
	for k, v := range meta {
		if strings.EqualFold(k, bounce.PostmarkMetadataKey) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// parseTime reads an RFC 3339 time; zero (now, to the sink) when it
// does not parse.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// jsonProblem says briefly why a body is not the JSON expected, without
// quoting it.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("%s should be %s", typeErr.Field, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	}
	return "invalid JSON"
}
