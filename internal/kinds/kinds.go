// Package kinds defines each kind of announcement herald sends, one file a
// kind: what the ledger calls it, how an announcement of it is made, who
// receives it and whether their opt-outs apply, what each recipient's
// message says (template, data, headers, reply-to, unsubscribe link), and
// the templates it renders with their sample data. The Registry is keyed by
// kind: the workers, the API and the renderer ask it instead of switching
// on the kind themselves.
//
// A new kind is a new file here (its Kind, its data, its composer), a line
// in New, and its templates in templates/defaults.
package kinds

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/unsubscribe"
	"github.com/heraldhq/herald/templates"
)

// Kind is one kind of announcement.
type Kind interface {
	// Name is the kind as the ledger stores it.
	Name() ledger.Kind
	// Templates are the templates the kind renders, each with the sample
	// data it is tried on at start and previewed with.
	Templates() []templates.Spec
	// Open reads an announcement of this kind, its parameters and
	// audience decoded once for the fan-out and every batch it sends.
	Open(a ledger.Announcement) (Announcement, error)
}

// Announcement is an announcement read by its kind, ready to fan out and
// send.
type Announcement interface {
	// Audience is who it goes to: the query the ledger turns into
	// deliveries, and whether opt-outs apply.
	Audience() ledger.Audience
	// Batch loads what the messages to emails need, as it is now: the
	// fan-out may be hours old when a retry is sent.
	Batch(ctx context.Context, emails []string) (Batch, error)
}

// Batch composes the messages of one batch of deliveries.
type Batch interface {
	// Check runs just before each message is sent, after its delivery is
	// claimed: a reason skips it (an invoice paid meanwhile).
	Check(ctx context.Context) (skip string, err error)
	// Compose returns the message to email, or the reason not to send it
	// after all (the person left, opted out or was suppressed meanwhile).
	Compose(email string) (d Draft, skip string)
}

// Draft is one recipient's message before it is rendered.
type Draft struct {
	Template string
	Locale   string
	Data     any
	ToName   string
	// Headers are what this kind adds: Auto-Submitted, List-Unsubscribe…
	Headers [][2]string
	ReplyTo string
}

// Deps are what the kinds need to compose messages.
type Deps struct {
	Contacts *contacts.Store
	Billing  *billing.Billing
	// Unsubscribe makes the tokens of unsubscribe links; nil makes none.
	Unsubscribe *unsubscribe.Tokens
	// Lists are the public URL of links, the unsubscribe mailto and the
	// Reply-To address of each kind.
	Lists config.Lists
	// PaymentURL is HERALD_PAYMENT_URL_TEMPLATE, empty for none.
	PaymentURL string
	// From is the sender; its domain names the List-Id.
	From string
	// SignInLinks makes the tokens of the portal's sign-in links, valid
	// for SignInTTL; nil where no sign-in mail is composed (the API).
	SignInLinks SignInLinks
	SignInTTL   time.Duration
	// Staff and ConsoleLinks make the console's sign-in mail, whose links
	// point at ConsoleURL (HERALD_HTTP_ADDR); nil where none is composed.
	Staff        *staff.Store
	ConsoleLinks SignInLinks
	ConsoleURL   string
	Now          func() time.Time
}

// Registry is every kind herald sends, keyed by kind.
type Registry struct {
	byName map[ledger.Kind]Kind
	names  []ledger.Kind
	// broadcast and release compose test sends and previews, which reach
	// people outside the ledger.
	broadcast *broadcastKind
	release   *releaseKind
}

// New returns the registry of every kind.
func New(deps Deps) (*Registry, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	domain, err := mailer.Domain(deps.From)
	if err != nil {
		return nil, fmt.Errorf("HERALD_FROM: %w", err)
	}
	links := &lists{tokens: deps.Unsubscribe, publicURL: strings.TrimRight(deps.Lists.PublicURL, "/"), mailto: deps.Lists.UnsubscribeMailto}
	reminders, err := newReminderKind(deps)
	if err != nil {
		return nil, err
	}
	reminders.accountURL = links.account()
	broadcast := &broadcastKind{store: deps.Contacts, lists: links, replyTo: deps.Lists.ReplyToBroadcast,
		listID: "herald announcements <announcements." + domain + ">"}
	release := &releaseKind{store: deps.Contacts, lists: links, replyTo: deps.Lists.ReplyToRelease}
	r := &Registry{byName: map[ledger.Kind]Kind{}, broadcast: broadcast, release: release}
	for _, k := range []Kind{
		release,
		broadcast,
		reminders,
		&contactChangeKind{store: deps.Contacts, accountURL: links.account()},
		&signInKind{store: deps.Contacts, links: deps.SignInLinks, publicURL: links.publicURL, ttl: deps.SignInTTL},
		&staffSignInKind{staff: deps.Staff, links: deps.ConsoleLinks, consoleURL: strings.TrimRight(deps.ConsoleURL, "/"), ttl: deps.SignInTTL},
	} {
		r.byName[k.Name()] = k
		r.names = append(r.names, k.Name())
	}
	slices.Sort(r.names)
	return r, nil
}

// Open reads an announcement through its kind.
func (r *Registry) Open(a ledger.Announcement) (Announcement, error) {
	k, ok := r.byName[a.Kind]
	if !ok {
		return nil, fmt.Errorf("announcement %d is of kind %q, which this herald does not know", a.ID, a.Kind)
	}
	open, err := k.Open(a)
	if err != nil {
		return nil, fmt.Errorf("announcement %d (%s): %w", a.ID, a.Kind, err)
	}
	return open, nil
}

// OptOut is the mail that a complaint about announcement a opts its
// recipient out of: its audience's (NoOptOut for invoice reminders and
// transactional mail, which a complaint does not stop).
func (r *Registry) OptOut(a ledger.Announcement) (ledger.OptOut, error) {
	open, err := r.Open(a)
	if err != nil {
		return ledger.NoOptOut, err
	}
	return open.Audience().OptOut, nil
}

// Urgent reports whether a person waits for mail of kind (a sign-in
// link): its tasks go on the queue that is worked before the bulk one.
func (r *Registry) Urgent(kind ledger.Kind) bool {
	u, ok := r.byName[kind].(interface{ Urgent() bool })
	return ok && u.Urgent()
}

// Names lists the kinds, sorted.
func (r *Registry) Names() []ledger.Kind { return slices.Clone(r.names) }

// Check says whether kind exists, as an invalid field when it does not.
func (r *Registry) Check(field string, kind ledger.Kind) error {
	if _, ok := r.byName[kind]; ok {
		return nil
	}
	names := make([]string, len(r.names))
	for i, n := range r.names {
		names[i] = string(n)
	}
	return fault.Invalid(field, "%q is not a kind (%s)", kind, strings.Join(names, ", "))
}

// Templates lists the templates of every kind, for the renderer.
func (r *Registry) Templates() []templates.Spec {
	var specs []templates.Spec
	for _, n := range r.names {
		specs = append(specs, r.byName[n].Templates()...)
	}
	return specs
}

// TemplatesOf lists the templates of kind, none for a kind that does not
// exist: a page that shows its messages prepares for what they contain.
func (r *Registry) TemplatesOf(kind ledger.Kind) []templates.Spec {
	if k, ok := r.byName[kind]; ok {
		return k.Templates()
	}
	return nil
}

// count is what audience reaches now, skipping whom its fan-out skips.
func count(ctx context.Context, store *contacts.Store, audience ledger.Audience) (contacts.AudienceCount, error) {
	return store.CountAudience(ctx, audience.Query, audience.Args, audience.OptOut)
}

// decode reads an announcement's parameters and audience.
func decode(a ledger.Announcement, params, audience any) error {
	if err := json.Unmarshal(a.Params, params); err != nil {
		return fmt.Errorf("params: %w", err)
	}
	if err := json.Unmarshal(a.Audience, audience); err != nil {
		return fmt.Errorf("audience: %w", err)
	}
	return nil
}

// Recipient is the person a message is for.
type Recipient struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// LicenseRef names a license in a message.
type LicenseRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// skipAnnouncement is why a release notice or broadcast is not sent to a
// person after all: they changed since the fan-out (optedOut: out of this
// kind of mail).
func skipAnnouncement(rec contacts.Recipient, found, optedOut bool) string {
	switch {
	case !found:
		return "contact deleted"
	case rec.Suppressed:
		return "suppressed"
	case optedOut:
		return "opted out"
	}
	return ""
}

// autoSubmitted marks mail sent by a program (RFC 3834), so that
// out-of-office replies stay away.
var autoSubmitted = [2]string{"Auto-Submitted", "auto-generated"}
