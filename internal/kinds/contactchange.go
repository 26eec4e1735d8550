package kinds

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/templates"
)

// ContactChange tells the people a change to a license's contacts
// concerns: the contact added, removed or made main, and the main contacts
// of both roles, unless they made the change themselves. Who receives a
// license's mail is a matter of its security, so it is transactional:
// opt-outs do not apply, and it has no unsubscribe link.
const ContactChange ledger.Kind = "contact_change"

// contactChangeTemplate renders contact-change notices.
const contactChangeTemplate = "contact_change"

// ContactChangeParams are the change a notice tells of, as it was made:
// the license and product are named as they were then.
type ContactChangeParams struct {
	AuditID      int64           `json:"audit_id"`
	Action       contacts.Action `json:"action"`
	Email        string          `json:"email"`
	Role         contacts.Role   `json:"role"`
	Main         bool            `json:"main"`
	PreviousMain string          `json:"previous_main"`
	License      LicenseRef      `json:"license"`
	Product      string          `json:"product"`
	ProductName  string          `json:"product_name"`
	Via          contacts.Via    `json:"via"`
	Actor        string          `json:"actor"`
	At           time.Time       `json:"at"`
}

// ContactChangeAudience is who hears of a change: the addresses the store
// named when the change was made, so that a contact removed, or a main
// contact replaced, still hears of it.
type ContactChangeAudience struct {
	Emails []string `json:"emails"`
}

// ContactChangeData is the data of the "contact_change" template.
type ContactChangeData struct {
	Recipient Recipient           `json:"recipient"`
	Change    ContactChangeParams `json:"change"`
	// You says that the change is about the recipient: "you were added",
	// rather than "bob@acme.test was added".
	You bool `json:"you"`
	// By is who made the change, as a customer may be told: the
	// contact's address for a change made in the portal, empty for a
	// change made by the vendor's staff (the audit log names the token).
	By string `json:"by"`
	// AccountURL is the contacts portal, where contacts manage who
	// receives the license's mail.
	AccountURL string `json:"account_url"`
}

// ContactNotices stores the notices of each audited change in the change's
// own transaction (contacts.Notifier): one contact_change announcement per
// audit entry, keyed by its id, so a change and its notices are stored
// together or not at all. Start, run after the commit, sends them on.
type ContactNotices struct {
	Ledger *ledger.Ledger
	// Start enqueues the fan-out of a due announcement, as for any other
	// announcement; nil leaves it to the reconciler.
	Start func(ctx context.Context, id int64)
}

// Notify implements contacts.Notifier.
func (c *ContactNotices) Notify(ctx context.Context, tx *sqlx.Tx, n contacts.Notice) (func(context.Context), error) {
	e := n.Entry
	a, _, err := c.Ledger.Create(ctx, tx, ledger.NewAnnouncement{
		Kind:      ContactChange,
		DedupeKey: "contact_change:" + strconv.FormatInt(e.ID, 10),
		Template:  contactChangeTemplate,
		Subject:   fmt.Sprintf("%s %s as %s contact of %s", e.Email, e.Action, e.Role, e.LicenseID),
		Ref:       e.LicenseID,
		Params: ContactChangeParams{
			AuditID: e.ID, Action: e.Action, Email: e.Email, Role: e.Role, Main: e.Main, PreviousMain: e.PreviousMain,
			License: LicenseRef{ID: n.License.ID, Name: n.License.Name}, Product: n.Product, ProductName: n.ProductName,
			Via: e.By.Via, Actor: e.By.Name, At: e.At,
		},
		Audience: ContactChangeAudience{Emails: n.Tell},
	})
	if err != nil {
		return nil, err
	}
	if c.Start == nil {
		return nil, nil
	}
	return func(ctx context.Context) { c.Start(ctx, a.ID) }, nil
}

type contactChangeKind struct {
	store      *contacts.Store
	accountURL string
}

func (k *contactChangeKind) Name() ledger.Kind { return ContactChange }

// Urgent puts notices ahead of bulk sends: a contact added or removed
// should hear of it while the change is fresh, not after a release
// notice to every customer.
func (k *contactChangeKind) Urgent() bool { return true }

func (k *contactChangeKind) Templates() []templates.Spec {
	return []templates.Spec{{Name: contactChangeTemplate, Sample: func() any {
		return &ContactChangeData{
			Recipient: Recipient{Email: "bob@example.com", Name: "Bob Example"},
			Change: ContactChangeParams{
				AuditID: 42, Action: contacts.Added, Email: "bob@example.com", Role: contacts.Technical,
				License: LicenseRef{ID: "SEN-1234", Name: "Acme Corp"}, Product: "jira", ProductName: "Jira Software",
				Via: contacts.ViaPortal, Actor: "ann@example.com", At: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
			},
			You:        true,
			By:         "ann@example.com",
			AccountURL: "https://herald.example.com/account",
		}
	}}}
}

func (k *contactChangeKind) Open(a ledger.Announcement) (Announcement, error) {
	c := &contactChangeAnnouncement{kind: k}
	if err := decode(a, &c.params, &c.audience); err != nil {
		return nil, err
	}
	return c, nil
}

type contactChangeAnnouncement struct {
	kind     *contactChangeKind
	params   ContactChangeParams
	audience ContactChangeAudience
}

// Audience is the addresses named when the change was made. Opt-outs do
// not apply: this is about who receives the license's mail.
func (c *contactChangeAnnouncement) Audience() ledger.Audience {
	if len(c.audience.Emails) == 0 {
		return ledger.Audience{Query: `SELECT email FROM contacts WHERE FALSE`}
	}
	query := `SELECT email FROM contacts WHERE email IN (?` + strings.Repeat(`, ?`, len(c.audience.Emails)-1) + `)`
	args := make([]any, len(c.audience.Emails))
	for i, e := range c.audience.Emails {
		args[i] = e
	}
	return ledger.Audience{Query: query, Args: args}
}

func (c *contactChangeAnnouncement) Batch(ctx context.Context, emails []string) (Batch, error) {
	people, err := c.kind.store.Recipients(ctx, emails, "", contacts.Scope{})
	if err != nil {
		return nil, err
	}
	return &contactChangeBatch{contactChangeAnnouncement: c, people: people}, nil
}

type contactChangeBatch struct {
	*contactChangeAnnouncement
	people map[string]contacts.Recipient
}

func (b *contactChangeBatch) Check(context.Context) (string, error) { return "", nil }

func (b *contactChangeBatch) Compose(email string) (Draft, string) {
	rec, found := b.people[email]
	switch {
	case !found:
		return Draft{}, "contact deleted"
	case rec.Suppressed:
		return Draft{}, "suppressed"
	}
	by := ""
	if b.params.Via == contacts.ViaPortal {
		by = b.params.Actor
	}
	return Draft{
		Template: contactChangeTemplate,
		Locale:   rec.Locale,
		ToName:   rec.Name,
		Headers:  [][2]string{autoSubmitted},
		Data: &ContactChangeData{
			Recipient:  Recipient{Email: rec.Email, Name: rec.Name},
			Change:     b.params,
			You:        rec.Email == b.params.Email,
			By:         by,
			AccountURL: b.kind.accountURL,
		},
	}, ""
}
