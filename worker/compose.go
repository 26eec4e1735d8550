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
	// headers are the extra headers of this kind of mail.
	headers() [][2]string
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
		return &releaseComposer{params: p, store: store}, nil
	}
	return nil, fmt.Errorf("announcement %d: no composer for kind %q", a.ID, a.Kind)
}

type releaseComposer struct {
	params ledger.ReleaseParams
	store  *contacts.Store
}

func (c *releaseComposer) recipients(ctx context.Context, emails []string) (map[string]contacts.Recipient, error) {
	return c.store.Recipients(ctx, emails, contacts.Technical, contacts.Scope{Product: c.params.Product})
}

func (c *releaseComposer) check(context.Context) (string, error) { return "", nil }

func (c *releaseComposer) compose(rec contacts.Recipient, found bool) (any, string) {
	switch {
	case !found:
		return nil, "contact deleted"
	case rec.Suppressed:
		return nil, "suppressed"
	case rec.ReleaseOptOut:
		return nil, "opted out"
	case len(rec.Licenses) == 0:
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
		Licenses: licenses,
	}, ""
}

func (c *releaseComposer) headers() [][2]string {
	return [][2]string{{"Auto-Submitted", "auto-generated"}}
}
