package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/templates"
)

// composer knows, for one kind of announcement, what each recipient's
// message says.
type composer interface {
	// recipients loads the people the messages go to, as they are now.
	recipients(ctx context.Context, emails []string) (map[string]contacts.Recipient, error)
	// check runs just before each message is sent, after its delivery is
	// claimed: a non-empty reason skips it (an invoice paid meanwhile).
	check(ctx context.Context) (skip string, err error)
	// compose returns the template data for one recipient, or the reason
	// not to send to them after all.
	compose(rec contacts.Recipient, found bool) (data any, skip string)
	// headers are the extra headers of this kind of mail to rec.
	headers(rec contacts.Recipient) [][2]string
}

func newComposer(a ledger.Announcement, deps Deps, cfg Config) (composer, error) {
	store := deps.Contacts
	switch a.Kind {
	case ledger.KindInvoiceReminder:
		return newReminderComposer(a, deps, cfg.PaymentURL)
	case ledger.KindRelease:
		var p ledger.ReleaseParams
		if err := json.Unmarshal(a.Params, &p); err != nil {
			return nil, fmt.Errorf("release params of announcement %d: %w", a.ID, err)
		}
		return &releaseComposer{params: p, store: store, lists: cfg.Lists}, nil
	case ledger.KindBroadcast:
		var p ledger.BroadcastParams
		if err := json.Unmarshal(a.Params, &p); err != nil {
			return nil, fmt.Errorf("broadcast params of announcement %d: %w", a.ID, err)
		}
		var aud ledger.BroadcastAudience
		if err := json.Unmarshal(a.Audience, &aud); err != nil {
			return nil, fmt.Errorf("broadcast audience of announcement %d: %w", a.ID, err)
		}
		return &broadcastComposer{params: p, audience: aud, store: store, lists: cfg.Lists, listID: cfg.ListID}, nil
	}
	return nil, fmt.Errorf("announcement %d: no composer for kind %q", a.ID, a.Kind)
}

type releaseComposer struct {
	params ledger.ReleaseParams
	store  *contacts.Store
	lists  *Lists
}

func (c *releaseComposer) recipients(ctx context.Context, emails []string) (map[string]contacts.Recipient, error) {
	return c.store.Recipients(ctx, emails, contacts.Technical, contacts.Scope{Product: c.params.Product})
}

func (c *releaseComposer) check(context.Context) (string, error) { return "", nil }

func (c *releaseComposer) compose(rec contacts.Recipient, found bool) (any, string) {
	if skip := announcementSkip(rec, found); skip != "" {
		return nil, skip
	}
	if len(rec.Licenses) == 0 {
		return nil, "no longer a technical contact of an active " + c.params.Product + " license"
	}
	licenses := make([]templates.LicenseRef, len(rec.Licenses))
	for i, l := range rec.Licenses {
		licenses[i] = templates.LicenseRef{ID: l.ID, Name: l.Name}
	}
	return &templates.ReleaseNotice{
		Recipient: templates.Recipient{Email: rec.Email, Name: rec.Name},
		Release: templates.ReleaseInfo{
			Product: c.params.Product, Version: c.params.Version, Title: c.params.Title,
			Notes: c.params.Notes, URL: c.params.URL,
		},
		Licenses:       licenses,
		UnsubscribeURL: c.lists.URL(rec.Email),
	}, ""
}

func (c *releaseComposer) headers(rec contacts.Recipient) [][2]string {
	return append([][2]string{{"Auto-Submitted", "auto-generated"}}, c.lists.Headers(rec.Email)...)
}

// broadcastComposer writes the messages of staff broadcasts.
type broadcastComposer struct {
	params   ledger.BroadcastParams
	audience ledger.BroadcastAudience
	store    *contacts.Store
	lists    *Lists
	listID   string
	// inAudience says who the audience still selects, as of the batch.
	inAudience map[string]bool
}

// recipients loads the people and checks that the audience still selects
// them: a delivery retried hours later does not reach someone who has left
// the license (or whose license was cancelled) since the fan-out.
func (c *broadcastComposer) recipients(ctx context.Context, emails []string) (map[string]contacts.Recipient, error) {
	query, args := c.audience.Query()
	in, err := c.store.InAudience(ctx, query, args, emails)
	if err != nil {
		return nil, err
	}
	c.inAudience = in
	return c.store.Recipients(ctx, emails, "", contacts.Scope{})
}

func (c *broadcastComposer) check(context.Context) (string, error) { return "", nil }

func (c *broadcastComposer) compose(rec contacts.Recipient, found bool) (any, string) {
	if skip := announcementSkip(rec, found); skip != "" {
		return nil, skip
	}
	if c.inAudience != nil && !c.inAudience[rec.Email] {
		return nil, "no longer in the audience"
	}
	return &templates.Broadcast{
		Recipient:      templates.Recipient{Email: rec.Email, Name: rec.Name},
		Subject:        c.params.Subject,
		Body:           c.params.Body,
		UnsubscribeURL: c.lists.URL(rec.Email),
	}, ""
}

func (c *broadcastComposer) headers(rec contacts.Recipient) [][2]string {
	h := [][2]string{{"Precedence", "bulk"}}
	if c.listID != "" {
		h = append(h, [2]string{"List-Id", c.listID})
	}
	return append(h, c.lists.Headers(rec.Email)...)
}

// announcementSkip is why a release notice or broadcast is not sent to a
// person after all: they changed since the fan-out.
func announcementSkip(rec contacts.Recipient, found bool) string {
	switch {
	case !found:
		return "contact deleted"
	case rec.Suppressed:
		return "suppressed"
	case rec.ReleaseOptOut:
		return "opted out"
	}
	return ""
}
