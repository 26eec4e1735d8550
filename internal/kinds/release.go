package kinds

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/templates"
)

// Release is the notice of a new version of a product, to every technical
// contact of the product's active licenses, once per person. Opt-outs
// apply, and it carries an unsubscribe link.
const Release ledger.Kind = "release"

// releaseTemplate renders release notices.
const releaseTemplate = "release"

// ReleaseAudience is who hears of a release.
type ReleaseAudience struct {
	Product string `json:"product"`
}

// ledger is the audience as the fan-out resolves it: those who left
// release notices are skipped.
func (aud ReleaseAudience) ledger() ledger.Audience {
	query, args := contacts.ReleaseAudienceQuery(aud.Product)
	return ledger.Audience{Query: query, Args: args, OptOut: ledger.ReleaseOptOut}
}

// Count says whom a notice of a release of aud.Product reaches now, as
// its fan-out would, without storing anything.
func (aud ReleaseAudience) Count(ctx context.Context, store *contacts.Store) (contacts.AudienceCount, error) {
	return count(ctx, store, aud.ledger())
}

// ReleaseAnnouncement is the announcement of a checked release, for
// ledger.CreateRelease and ledger.RecordFeed: keyed by product and version,
// so that announcing a version again finds the first announcement.
func ReleaseAnnouncement(nr ledger.NewRelease) ledger.NewAnnouncement {
	return ledger.NewAnnouncement{
		Kind:      Release,
		DedupeKey: "release:" + nr.Product + ":" + nr.Version,
		Template:  releaseTemplate,
		Subject:   nr.Title,
		Params:    ReleaseInfo{Product: nr.Product, Version: nr.Version, Title: nr.Title, Notes: nr.Notes, URL: nr.URL},
		Audience:  ReleaseAudience{Product: nr.Product},
		SendAt:    nr.SendAt,
	}
}

// ReleaseInfo is the release a notice announces, as its announcement's
// params keep it and its template shows it. Notes are Markdown.
type ReleaseInfo struct {
	Product string `json:"product"`
	// ProductName is what the message calls the product: its display
	// name, or its key when it has none. It is read when the message is
	// written, so a name given after the release was made is used.
	ProductName string `json:"product_name,omitempty"`
	Version     string `json:"version"`
	Title       string `json:"title"`
	Notes       string `json:"notes"`
	URL         string `json:"url"`
}

// ReleaseData is the data of the "release" template: one message to one
// technical contact, naming every license through which they hear of it.
type ReleaseData struct {
	Recipient Recipient    `json:"recipient"`
	Release   ReleaseInfo  `json:"release"`
	Licenses  []LicenseRef `json:"licenses"`
	// UnsubscribeURL is the recipient's one-click unsubscribe link.
	UnsubscribeURL string `json:"unsubscribe_url"`
	// AccountURL is the contacts portal, where contacts manage who
	// receives their licenses' mail; empty without a public URL.
	AccountURL string `json:"account_url"`
}

type releaseKind struct {
	store   *contacts.Store
	lists   *lists
	replyTo string
}

func (k *releaseKind) Name() ledger.Kind { return Release }

func (k *releaseKind) Templates() []templates.Spec {
	return []templates.Spec{{Name: releaseTemplate, Sample: func() any {
		return &ReleaseData{
			Recipient: Recipient{Email: "ann@example.com", Name: "Ann Example"},
			Release: ReleaseInfo{
				Product: "jira", ProductName: "Jira Software", Version: "9.4.0", Title: "Jira 9.4",
				Notes: "## What's new\n\n* Faster boards\n* A **new** API for [automation](https://example.com/automation)\n",
				URL:   "https://example.com/releases/jira-9.4",
			},
			Licenses:       []LicenseRef{{ID: "SEN-1234", Name: "Acme Corp"}, {ID: "SEN-5678", Name: "Acme Labs"}},
			UnsubscribeURL: "https://herald.example.com/unsubscribe/sample-token",
			AccountURL:     "https://herald.example.com/account",
		}
	}}}
}

func (k *releaseKind) Open(a ledger.Announcement) (Announcement, error) {
	r := &releaseAnnouncement{kind: k}
	if err := decode(a, &r.params, &r.audience); err != nil {
		return nil, err
	}
	return r, nil
}

type releaseAnnouncement struct {
	kind     *releaseKind
	params   ReleaseInfo
	audience ReleaseAudience
}

func (r *releaseAnnouncement) Audience() ledger.Audience { return r.audience.ledger() }

func (r *releaseAnnouncement) Batch(ctx context.Context, emails []string) (Batch, error) {
	people, err := r.kind.store.Recipients(ctx, emails, contacts.Technical, contacts.Scope{Product: r.params.Product})
	if err != nil {
		return nil, err
	}
	name, err := r.kind.store.ProductName(ctx, r.params.Product)
	if err != nil {
		return nil, err
	}
	return &releaseBatch{releaseAnnouncement: r, people: people, release: r.params.named(name)}, nil
}

// named is the release as a message tells it, its product called name. A
// title the ledger made of the key ("jira 9.4.1", when none was given) is
// made of the name instead.
func (info ReleaseInfo) named(name string) ReleaseInfo {
	if info.Title == info.Product+" "+info.Version {
		info.Title = name + " " + info.Version
	}
	info.ProductName = name
	return info
}

type releaseBatch struct {
	*releaseAnnouncement
	people  map[string]contacts.Recipient
	release ReleaseInfo
}

func (b *releaseBatch) Check(context.Context) (string, error) { return "", nil }

func (b *releaseBatch) Compose(email string) (Draft, string) {
	rec, found := b.people[email]
	if skip := skipAnnouncement(rec, found, rec.ReleaseOptOut); skip != "" {
		return Draft{}, skip
	}
	if len(rec.Licenses) == 0 {
		return Draft{}, "no longer a technical contact of an active " + b.params.Product + " license"
	}
	return b.kind.draft(b.release, rec), ""
}

// draft is the notice of release to rec, naming the licenses through
// which they hear of it.
func (k *releaseKind) draft(release ReleaseInfo, rec contacts.Recipient) Draft {
	licenses := make([]LicenseRef, len(rec.Licenses))
	for i, l := range rec.Licenses {
		licenses[i] = LicenseRef{ID: l.ID, Name: l.Name}
	}
	link, headers := k.lists.unsubscribe(rec.Email, unsubscribe.CategoryReleases)
	return Draft{
		Template: releaseTemplate,
		Locale:   rec.Locale,
		ToName:   rec.Name,
		ReplyTo:  k.replyTo,
		Headers:  append([][2]string{autoSubmitted}, headers...),
		Data: &ReleaseData{
			Recipient:      Recipient{Email: rec.Email, Name: rec.Name},
			Release:        release,
			Licenses:       licenses,
			UnsubscribeURL: link,
			AccountURL:     k.lists.account(),
		},
	}
}

// ReleaseDraft is the notice of a release not yet made as email, a
// technical contact of one of its product's active licenses, would get it
// now: for the console's preview. A release without a title is called as
// the ledger will call it, by its product's name and version.
func (r *Registry) ReleaseDraft(ctx context.Context, info ReleaseInfo, email string) (Draft, error) {
	k := r.release
	people, err := k.store.Recipients(ctx, []string{email}, contacts.Technical, contacts.Scope{Product: info.Product})
	if err != nil {
		return Draft{}, err
	}
	rec, ok := people[email]
	if !ok {
		return Draft{}, fmt.Errorf("preview release for %s: %w", email, contacts.ErrNotFound)
	}
	name, err := k.store.ProductName(ctx, info.Product)
	if err != nil {
		return Draft{}, err
	}
	if info.Title == "" {
		info.Title = info.Product + " " + info.Version
	}
	return k.draft(info.named(name), rec), nil
}
