package kinds

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/markdown"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/templates"
)

// Broadcast is a message written by staff to contacts chosen by role,
// product, license and main-contact status, each address once. It is bulk
// mail: opt-outs apply, and it carries List-Id and an unsubscribe link.
const Broadcast ledger.Kind = "broadcast"

// broadcastTemplate renders broadcasts.
const broadcastTemplate = "broadcast"

// NewBroadcast is a message written by staff to a chosen audience.
type NewBroadcast struct {
	Subject  string
	Body     string // Markdown
	Audience BroadcastAudience
	SendAt   time.Time
}

// BroadcastAudience is who a broadcast goes to: the contacts of active
// licenses holding one of Roles (all when empty), of Products and Licenses
// when given, only the main ones when MainOnly; each address once.
type BroadcastAudience struct {
	Roles    []contacts.Role `json:"roles"`
	Products []string        `json:"products"`
	Licenses []string        `json:"licenses"`
	MainOnly bool            `json:"main_only"`
}

// BroadcastParams are what a broadcast says.
type BroadcastParams struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Query returns the audience's query for the fan-out and dry runs.
func (aud BroadcastAudience) Query() (string, []any) {
	return contacts.BroadcastAudienceQuery(aud.Roles, aud.Products, aud.Licenses, aud.MainOnly)
}

// ledger is the audience as the fan-out resolves it: those who left
// broadcasts are skipped.
func (aud BroadcastAudience) ledger() ledger.Audience {
	query, args := aud.Query()
	return ledger.Audience{Query: query, Args: args, OptOut: ledger.BroadcastOptOut}
}

// Count says whom a broadcast to aud reaches now, without storing
// anything: the people its fan-out would send to, those it would skip, and
// a sample. Dry runs (API, command line, console) count through it, so that
// what they say is what the fan-out does.
func (aud BroadcastAudience) Count(ctx context.Context, store *contacts.Store) (contacts.AudienceCount, error) {
	return count(ctx, store, aud.ledger())
}

// Params are what the broadcast says.
func (nb NewBroadcast) Params() BroadcastParams {
	return BroadcastParams{Subject: nb.Subject, Body: nb.Body}
}

// Normalize checks a broadcast, naming fields as JSON paths.
func (nb *NewBroadcast) Normalize() error {
	nb.Subject = strings.TrimSpace(nb.Subject)
	if nb.Subject == "" {
		return fault.Invalid("subject", "is required")
	}
	if strings.ContainsAny(nb.Subject, "\r\n") {
		return fault.Invalid("subject", "must not contain line breaks")
	}
	var err error
	if nb.Subject, err = contacts.NormalizeName("subject", nb.Subject, true); err != nil {
		return err
	}
	if strings.TrimSpace(nb.Body) == "" {
		return fault.Invalid("body", "is required")
	}
	if !utf8.ValidString(nb.Body) || strings.ContainsRune(nb.Body, 0) {
		return fault.Invalid("body", "must be UTF-8 text without NUL characters")
	}
	if err := markdown.Validate("body", nb.Body); err != nil {
		return err
	}
	return nb.Audience.normalize()
}

// maxAudienceList bounds each list of an audience: every value is a bind
// parameter, and databases take some tens of thousands at most.
const maxAudienceList = 1000

func (aud *BroadcastAudience) normalize() error {
	for _, list := range []struct {
		field string
		n     int
	}{{"audience.roles", len(aud.Roles)}, {"audience.products", len(aud.Products)}, {"audience.licenses", len(aud.Licenses)}} {
		if list.n > maxAudienceList {
			return fault.Invalid(list.field, "lists %d values; at most %d can be named (leave it out to mean all)", list.n, maxAudienceList)
		}
	}
	var err error
	for i, r := range aud.Roles {
		if aud.Roles[i], err = contacts.ParseRole(fmt.Sprintf("audience.roles[%d]", i), string(r)); err != nil {
			return err
		}
	}
	for i, p := range aud.Products {
		if aud.Products[i], err = contacts.NormalizeProduct(fmt.Sprintf("audience.products[%d]", i), p); err != nil {
			return err
		}
	}
	for i, id := range aud.Licenses {
		if err := contacts.ValidateLicenseID(fmt.Sprintf("audience.licenses[%d]", i), id); err != nil {
			return err
		}
	}
	aud.Roles = slices.Compact(slices.Sorted(slices.Values(aud.Roles)))
	aud.Products = slices.Compact(slices.Sorted(slices.Values(aud.Products)))
	aud.Licenses = slices.Compact(slices.Sorted(slices.Values(aud.Licenses)))
	return nil
}

// CreateBroadcast checks a broadcast and stores its announcement. Every
// broadcast is new: its dedupe key is random.
func CreateBroadcast(ctx context.Context, led *ledger.Ledger, nb NewBroadcast) (ledger.Announcement, error) {
	if err := nb.Normalize(); err != nil {
		return ledger.Announcement{}, err
	}
	a, _, err := led.Announce(ctx, ledger.NewAnnouncement{
		Kind:      Broadcast,
		DedupeKey: "broadcast:" + strings.ToLower(rand.Text()),
		Template:  broadcastTemplate,
		Subject:   nb.Subject,
		Params:    nb.Params(),
		Audience:  nb.Audience,
		SendAt:    nb.SendAt,
	})
	if err != nil {
		return ledger.Announcement{}, fmt.Errorf("create broadcast: %w", err)
	}
	return a, nil
}

// BroadcastData is the data of the "broadcast" template. Body is Markdown.
type BroadcastData struct {
	Recipient      Recipient `json:"recipient"`
	Subject        string    `json:"subject"`
	Body           string    `json:"body"`
	UnsubscribeURL string    `json:"unsubscribe_url"`
}

type broadcastKind struct {
	store   *contacts.Store
	lists   *lists
	replyTo string
	listID  string
}

func (k *broadcastKind) Name() ledger.Kind { return Broadcast }

func (k *broadcastKind) Templates() []templates.Spec {
	return []templates.Spec{{Name: broadcastTemplate, Sample: func() any {
		return &BroadcastData{
			Recipient:      Recipient{Email: "ann@example.com", Name: "Ann Example"},
			Subject:        "Planned maintenance on 12 December",
			Body:           "Dear customer,\n\nour license servers will be **offline** on 12 December from 06:00 to 07:00 UTC.\n\n* Running instances are not affected\n* [Status page](https://status.example.com)\n",
			UnsubscribeURL: "https://herald.example.com/unsubscribe/sample-token",
		}
	}}}
}

func (k *broadcastKind) Open(a ledger.Announcement) (Announcement, error) {
	b := &broadcastAnnouncement{kind: k}
	if err := decode(a, &b.params, &b.audience); err != nil {
		return nil, err
	}
	return b, nil
}

// draft is the broadcast to one person.
func (k *broadcastKind) draft(p BroadcastParams, rec contacts.Recipient) Draft {
	link, headers := k.lists.unsubscribe(rec.Email, unsubscribe.CategoryBroadcasts)
	h := [][2]string{{"Precedence", "bulk"}, {"List-Id", k.listID}}
	return Draft{
		Template: broadcastTemplate,
		Locale:   rec.Locale,
		ToName:   rec.Name,
		ReplyTo:  k.replyTo,
		Headers:  append(h, headers...),
		Data: &BroadcastData{
			Recipient:      Recipient{Email: rec.Email, Name: rec.Name},
			Subject:        p.Subject,
			Body:           p.Body,
			UnsubscribeURL: link,
		},
	}
}

// BroadcastDraft is a broadcast as email (named name) would get it, for
// dry runs and test sends: they reach people outside the ledger.
func (r *Registry) BroadcastDraft(p BroadcastParams, email, name string) Draft {
	return r.broadcast.draft(p, contacts.Recipient{Email: email, Name: name, Locale: templates.DefaultLocale})
}

type broadcastAnnouncement struct {
	kind     *broadcastKind
	params   BroadcastParams
	audience BroadcastAudience
}

func (b *broadcastAnnouncement) Audience() ledger.Audience { return b.audience.ledger() }

// Batch loads the people and checks that the audience still selects them:
// a delivery retried hours later does not reach someone who has left the
// license (or whose license was cancelled) since the fan-out.
func (b *broadcastAnnouncement) Batch(ctx context.Context, emails []string) (Batch, error) {
	query, args := b.audience.Query()
	in, err := b.kind.store.InAudience(ctx, query, args, emails)
	if err != nil {
		return nil, err
	}
	people, err := b.kind.store.Recipients(ctx, emails, "", contacts.Scope{})
	if err != nil {
		return nil, err
	}
	return &broadcastBatch{broadcastAnnouncement: b, people: people, inAudience: in}, nil
}

type broadcastBatch struct {
	*broadcastAnnouncement
	people map[string]contacts.Recipient
	// inAudience says who the audience still selects, as of the batch.
	inAudience map[string]bool
}

func (b *broadcastBatch) Check(context.Context) (string, error) { return "", nil }

func (b *broadcastBatch) Compose(email string) (Draft, string) {
	rec, found := b.people[email]
	if skip := skipAnnouncement(rec, found, rec.BroadcastOptOut); skip != "" {
		return Draft{}, skip
	}
	if !b.inAudience[email] {
		return Draft{}, "no longer in the audience"
	}
	return b.kind.draft(b.params, rec), ""
}
