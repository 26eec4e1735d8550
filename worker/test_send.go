package worker

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/templates"
)

// Tester sends a broadcast to staff before it goes out: rendered as every
// recipient will get it, sent at once to the given addresses only, with no
// ledger and no queue.
type Tester struct {
	Config   Config
	Renderer *templates.Renderer
	Sender   mailer.Sender
	Now      func() time.Time
}

// Preview renders a broadcast as a recipient with email and name gets it.
func (t *Tester) Preview(p ledger.BroadcastParams, email, name string) (templates.Message, error) {
	return t.Renderer.Render("broadcast", templates.DefaultLocale, &templates.Broadcast{
		Recipient: templates.Recipient{Email: email, Name: name}, Subject: p.Subject, Body: p.Body,
		UnsubscribeURL: t.Config.Lists.URL(email),
	})
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
func (t *Tester) Send(ctx context.Context, p ledger.BroadcastParams, to []string) ([]TestResult, error) {
	comp := &broadcastComposer{params: p, lists: t.Config.Lists, listID: t.Config.ListID}
	domain, err := mailer.Domain(t.Config.From)
	if err != nil {
		return nil, err
	}
	var results []TestResult
	for _, email := range slices.Compact(slices.Sorted(slices.Values(to))) {
		msg, err := t.Preview(p, email, "")
		if err != nil {
			return nil, err
		}
		err = t.Sender.Send(ctx, mailer.Message{
			From: t.Config.From, To: email, Subject: "[TEST] " + msg.Subject, Text: msg.Text, HTML: msg.HTML,
			MessageID: "test." + strings.ToLower(rand.Text()) + "@" + domain,
			Date:      t.Now(), Headers: comp.headers(contacts.Recipient{Email: email}), ReplyTo: t.Config.ReplyTo[ledger.KindBroadcast],
		})
		r := TestResult{Email: email}
		if err != nil {
			r.Error = err.Error()
		}
		results = append(results, r)
	}
	return results, nil
}
