package worker

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/templates"
)

// Tester sends a broadcast to staff before it goes out: rendered as every
// recipient will get it, sent at once to the given addresses only, with no
// ledger and no queue.
type Tester struct {
	From     string
	Kinds    *kinds.Registry
	Renderer *templates.Renderer
	Sender   mailer.Sender
	Now      func() time.Time
}

// Preview renders a broadcast as a recipient with email and name gets it.
func (t *Tester) Preview(p kinds.BroadcastParams, email, name string) (templates.Message, error) {
	d := t.Kinds.BroadcastDraft(p, email, name)
	return t.Renderer.Render(d.Template, d.Locale, d.Data)
}

// PreviewRelease renders the notice of a release not yet made as email, a
// technical contact of one of its product's active licenses, would get it.
func (t *Tester) PreviewRelease(ctx context.Context, info kinds.ReleaseInfo, email string) (templates.Message, error) {
	d, err := t.Kinds.ReleaseDraft(ctx, info, email)
	if err != nil {
		return templates.Message{}, err
	}
	return t.Renderer.Render(d.Template, d.Locale, d.Data)
}

// TestResult is the outcome of a test send to one address.
type TestResult struct {
	Email string `json:"email"`
	Error string `json:"error,omitempty"`
}

// Send sends the broadcast to each address of to once, its subject marked
// as a test, and says what became of each. It does not stop at a failure:
// a request repeated because of one bad address would otherwise send the
// others twice.
func (t *Tester) Send(ctx context.Context, p kinds.BroadcastParams, to []string) ([]TestResult, error) {
	domain, err := mailer.Domain(t.From)
	if err != nil {
		return nil, fmt.Errorf("HERALD_FROM: %w", err)
	}
	var results []TestResult
	for _, email := range slices.Compact(slices.Sorted(slices.Values(to))) {
		d := t.Kinds.BroadcastDraft(p, email, "")
		msg, err := t.Renderer.Render(d.Template, d.Locale, d.Data)
		if err != nil {
			return nil, err
		}
		err = t.Sender.Send(ctx, mailer.Message{
			From: t.From, To: email, Subject: "[TEST] " + msg.Subject, Text: msg.Text, HTML: msg.HTML,
			MessageID: "test." + strings.ToLower(rand.Text()) + "@" + domain,
			Date:      t.Now(), Headers: d.Headers, ReplyTo: d.ReplyTo,
		})
		r := TestResult{Email: email}
		if err != nil {
			r.Error = err.Error()
		}
		results = append(results, r)
	}
	return results, nil
}
