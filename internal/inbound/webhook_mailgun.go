package inbound

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/db"
)

// mailgunWindow is how far a Mailgun signature's timestamp may be from
// now, either way. Mailgun signs each try afresh, so a retry is fresh.
const mailgunWindow = 5 * time.Minute

type mailgunKey struct {
	key []byte
	db  *db.DB
}

// mailgunWebhook is a Mailgun webhook (v3): its signature and its event.
type mailgunWebhook struct {
	Signature struct {
		Timestamp string `json:"timestamp"`
		Token     string `json:"token"`
		Signature string `json:"signature"`
	} `json:"signature"`
	EventData *struct {
		Event     string  `json:"event"`
		ID        string  `json:"id"`
		Timestamp float64 `json:"timestamp"`
		Severity  string  `json:"severity"`
		Reason    string  `json:"reason"`
		Recipient string  `json:"recipient"`
		Message   struct {
			Headers struct {
				MessageID string `json:"message-id"`
			} `json:"headers"`
		} `json:"message"`
		DeliveryStatus struct {
			Code         json.Number `json:"code"`
			EnhancedCode string      `json:"enhanced-code"`
			Message      string      `json:"message"`
			Description  string      `json:"description"`
		} `json:"delivery-status"`
	} `json:"event-data"`
}

// mailgunEvents reads a Mailgun webhook: an HMAC-SHA256, under the
// signing key, of the timestamp followed by the token. The signature does
// not cover the body, so a token is accepted once: a signature lifted
// from one request cannot carry another body.
func (w *Webhooks) mailgunEvents(ctx context.Context, _ *http.Request, body []byte) (reps []report, err error) {
	var hook mailgunWebhook
	if err := json.Unmarshal(body, &hook); err != nil {
		// Unread, the body cannot show a signature either.
		return nil, unauthorized("the body is not a signed Mailgun webhook: %s", jsonProblem(err))
	}
	sig := hook.Signature
	if sig.Timestamp == "" || sig.Token == "" || sig.Signature == "" {
		return nil, unauthorized("the request is not signed: signature.timestamp, .token and .signature are required")
	}
	mac := hmac.New(sha256.New, w.mailgun.key)
	mac.Write([]byte(sig.Timestamp + sig.Token))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(strings.ToLower(sig.Signature)), []byte(want)) {
		return nil, unauthorized("the signature does not match HERALD_MAILGUN_SIGNING_KEY")
	}
	secs, err := strconv.ParseInt(sig.Timestamp, 10, 64)
	if err != nil {
		return nil, unauthorized("signature.timestamp is not a Unix time")
	}
	if d := w.now().Sub(time.Unix(secs, 0)); d > mailgunWindow || d < -mailgunWindow {
		return nil, unauthorized("signature.timestamp is more than %s from now", mailgunWindow)
	}
	if len(sig.Token) > 200 {
		return nil, unauthorized("signature.token is too long")
	}
	if err := w.mailgun.once(ctx, sig.Token, w.now()); err != nil {
		return nil, err
	}
	// A failure after this point lets Mailgun's retry through with the
	// same token: nothing of this try was applied for sure.
	defer func() {
		var we *webhookError
		if err != nil && !errors.As(err, &we) {
			if ferr := w.mailgun.forget(context.WithoutCancel(ctx), sig.Token); ferr != nil {
				err = errors.Join(err, ferr)
			}
		}
	}()
	ev := hook.EventData
	if ev == nil {
		return nil, malformed("event-data is missing")
	}
	var kind bounce.Kind
	switch {
	case ev.Event == "failed" && ev.Severity == "permanent" && ev.Reason == "old":
		kind = bounce.Soft // Mailgun retried for hours and gave up
	case ev.Event == "failed" && ev.Severity == "permanent":
		kind = bounce.Hard
	case ev.Event == "failed" && ev.Severity == "temporary":
		kind = bounce.Delay // Mailgun tries again
	case ev.Event == "failed":
		return nil, malformed("event-data.severity %q is not permanent or temporary", short(ev.Severity))
	case ev.Event == "complained":
		kind = bounce.Complaint
	default:
		w.ignored(SourceMailgun)
		return nil, nil
	}
	id := cleanID(ev.ID)
	if id == "" {
		return nil, malformed("event-data.id is missing")
	}
	e := bounce.Event{Kind: kind, Recipient: recipient(ev.Recipient), EventID: id}
	if ev.Timestamp > 0 && ev.Timestamp < math.MaxInt32*4 {
		sec, frac := math.Modf(ev.Timestamp)
		e.At = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	if kind != bounce.Complaint {
		ds := ev.DeliveryStatus
		diag := firstOf(ds.Message, ds.Description)
		if c := ds.Code.String(); c != "" && diag != "" && !strings.HasPrefix(diag, c) {
			diag = c + " " + diag
		}
		failure(&e, ds.EnhancedCode, diag)
	}
	return []report{{event: e, messageID: ev.Message.Headers.MessageID}}, nil
}

// once records a token as seen, and refuses one seen before. Tokens older
// than twice the window go first: a request that old is refused by its
// timestamp anyway.
func (k *mailgunKey) once(ctx context.Context, token string, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	if _, err := db.Exec(ctx, k.db, `DELETE FROM webhook_tokens WHERE source = ? AND seen_at < ?`, SourceMailgun, now.Add(-2*mailgunWindow)); err != nil {
		return fmt.Errorf("prune seen webhook tokens: %w", err)
	}
	_, err := db.Exec(ctx, k.db, `INSERT INTO webhook_tokens (source, token, seen_at) VALUES (?, ?, ?)`, SourceMailgun, token, now)
	if db.IsUniqueViolation(err) {
		return unauthorized("signature.token was used before: a replayed request")
	}
	if err != nil {
		return fmt.Errorf("note a webhook token: %w", err)
	}
	return nil
}

func (k *mailgunKey) forget(ctx context.Context, token string) error {
	if _, err := db.Exec(ctx, k.db, `DELETE FROM webhook_tokens WHERE source = ? AND token = ?`, SourceMailgun, token); err != nil {
		return fmt.Errorf("forget a webhook token: %w", err)
	}
	return nil
}

// short keeps what an error quotes of a request short.
func short(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
