package inbound

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/bounce"
)

// SendGrid's signed event webhook headers.
const (
	sendgridSignature = "X-Twilio-Email-Event-Webhook-Signature"
	sendgridTimestamp = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// signedMaxAge is how old a signed SendGrid request or SNS message may be:
// both services retry a failed post for hours, with the signature of the
// first try, so the window is wide; a replay within it changes nothing,
// as each event is applied once. Beyond it, or further ahead than
// signedMaxSkew, a request is refused.
const (
	signedMaxAge  = 72 * time.Hour
	signedMaxSkew = 5 * time.Minute
)

type sendgridKey struct{ key *ecdsa.PublicKey }

// sendgridEvent is one event of SendGrid's event webhook.
type sendgridEvent struct {
	Event     string      `json:"event"`
	Email     string      `json:"email"`
	Timestamp json.Number `json:"timestamp"`
	SMTPID    string      `json:"smtp-id"`
	EventID   string      `json:"sg_event_id"`
	Reason    string      `json:"reason"`
	Response  string      `json:"response"`
	Status    string      `json:"status"`
	Type      string      `json:"type"`
}

// sendgridEvents reads SendGrid's signed event webhook: an ECDSA (P-256,
// SHA-256) signature, base64 of ASN.1 DER, over the timestamp header
// followed by the raw body, which is a JSON array of events.
func (w *Webhooks) sendgridEvents(_ context.Context, r *http.Request, body []byte) ([]report, error) {
	sig, ts := r.Header.Get(sendgridSignature), r.Header.Get(sendgridTimestamp)
	if sig == "" || ts == "" {
		return nil, unauthorized("the request is not signed: %s and %s are required", sendgridSignature, sendgridTimestamp)
	}
	der, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return nil, unauthorized("%s is not base64", sendgridSignature)
	}
	h := sha256.New()
	h.Write([]byte(ts))
	h.Write(body)
	if !ecdsa.VerifyASN1(w.sendgrid.key, h.Sum(nil), der) {
		return nil, unauthorized("the signature does not match HERALD_SENDGRID_WEBHOOK_KEY")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, unauthorized("%s is not a Unix time", sendgridTimestamp)
	}
	if err := w.fresh(time.Unix(secs, 0), signedMaxAge); err != nil {
		return nil, err
	}
	var batch []sendgridEvent
	if err := json.Unmarshal(body, &batch); err != nil {
		return nil, malformed("the body is not a JSON array of SendGrid events: %s", jsonProblem(err))
	}
	var reports []report
	for i, ev := range batch {
		var kind bounce.Kind
		switch ev.Event {
		case "bounce":
			// "blocked" is the receiving server refusing SendGrid (its IP,
			// its content), not the address: it may pass.
			kind = bounce.Hard
			if ev.Type == "blocked" {
				kind = bounce.Soft
			}
		case "deferred":
			kind = bounce.Delay
		case "spamreport":
			kind = bounce.Complaint
		default:
			w.ignored(SourceSendGrid)
			continue
		}
		id := cleanID(ev.EventID)
		if id == "" {
			return nil, malformed("event %d: sg_event_id is missing", i)
		}
		e := bounce.Event{Kind: kind, Recipient: recipient(ev.Email), EventID: id}
		if secs, err := ev.Timestamp.Int64(); err == nil && secs > 0 {
			e.At = time.Unix(secs, 0).UTC()
		}
		if kind != bounce.Complaint {
			failure(&e, ev.Status, firstOf(ev.Reason, ev.Response))
		}
		reports = append(reports, report{event: e, messageID: ev.SMTPID})
	}
	return reports, nil
}

// fresh refuses a signed time older than maxAge or further ahead than
// signedMaxSkew.
func (w *Webhooks) fresh(at time.Time, maxAge time.Duration) error {
	now := w.now()
	switch {
	case at.Before(now.Add(-maxAge)):
		return unauthorized("the signed timestamp is more than %s old", maxAge)
	case at.After(now.Add(signedMaxSkew)):
		return unauthorized("the signed timestamp is more than %s ahead", signedMaxSkew)
	}
	return nil
}

func firstOf(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
