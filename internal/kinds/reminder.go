package kinds

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"text/template"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/templates"
)

// InvoiceReminder reminds the billing contacts of a license of an invoice,
// on a step of the cadence around its due date. It is transactional: opting
// out of release notices does not silence it, and it has no unsubscribe
// link. It is never sent once the invoice is paid or void.
const InvoiceReminder ledger.Kind = "invoice_reminder"

// Templates of the reminder, by its step.
const (
	TemplateUpcoming = "invoice_upcoming"
	TemplateDue      = "invoice_due"
	TemplateOverdue  = "invoice_overdue"
)

// reminderTemplate is the template of a reminder days from the due date
// (negative before it).
func reminderTemplate(days int) string {
	switch {
	case days < 0:
		return TemplateUpcoming
	case days == 0:
		return TemplateDue
	default:
		return TemplateOverdue
	}
}

// ReminderParams are what a reminder needs besides the recipient: the
// invoice itself is read again just before sending, so that a paid invoice
// is never reminded of.
type ReminderParams struct {
	Number string `json:"number"`
	Offset int    `json:"offset"`
}

// ReminderAudience is who a reminder goes to.
type ReminderAudience struct {
	LicenseID string `json:"license_id"`
	MainOnly  bool   `json:"main_only"`
}

// ReminderKey is the dedupe key of the reminder of an invoice at an offset:
// several schedulers reminding at once create it once.
func ReminderKey(number string, offset int) string {
	return "invoice:" + number + ":" + strconv.Itoa(offset)
}

// ReminderAnnouncement is the announcement of one step of the cadence, for
// billing.Remind.
func ReminderAnnouncement(r billing.Reminder) ledger.NewAnnouncement {
	return ledger.NewAnnouncement{
		Kind:      InvoiceReminder,
		DedupeKey: ReminderKey(r.Number, r.Offset),
		Template:  reminderTemplate(r.Offset),
		Subject:   reminderSubject(r.Number, r.Offset),
		Ref:       r.Number,
		Params:    ReminderParams{Number: r.Number, Offset: r.Offset},
		Audience:  ReminderAudience{LicenseID: r.LicenseID, MainOnly: r.MainOnly},
	}
}

func reminderSubject(number string, offset int) string {
	switch {
	case offset < 0:
		return fmt.Sprintf("Invoice %s is due in %d days", number, -offset)
	case offset == 0:
		return fmt.Sprintf("Invoice %s is due today", number)
	default:
		return fmt.Sprintf("Invoice %s is %d days overdue", number, offset)
	}
}

// InvoiceInfo is the invoice a reminder is about. Templates write the
// amount and the due date with their functions amount and date, which
// follow the language of the template; Amount is the amount as the
// recipient's locale writes it, for templates written before those.
type InvoiceInfo struct {
	Number      string `json:"number"`
	Amount      string `json:"amount"` // "€1,250.00"
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	DueDate     string `json:"due_date"` // YYYY-MM-DD
}

// InvoiceReminderData is the data of the invoice_upcoming, invoice_due and
// invoice_overdue templates.
type InvoiceReminderData struct {
	Recipient Recipient   `json:"recipient"`
	License   LicenseRef  `json:"license"`
	Invoice   InvoiceInfo `json:"invoice"`
	// Days is how many days the due date is away on the day the message
	// is written, in the license's timezone: before it for the upcoming
	// reminder, after it for the overdue one.
	Days int `json:"days"`
	// PaymentURL is where to pay, when herald is configured with one.
	PaymentURL string `json:"payment_url"`
	// AccountURL is the contacts portal, where contacts manage who
	// receives the license's mail; empty without a public URL.
	AccountURL string `json:"account_url"`
}

// PaymentURLData is what HERALD_PAYMENT_URL_TEMPLATE is executed on.
type PaymentURLData struct {
	Invoice billing.Invoice
	License LicenseRef
}

type reminderKind struct {
	billing    *billing.Billing
	store      *contacts.Store
	paymentURL *template.Template
	replyTo    string
	accountURL string
	now        func() time.Time
}

func newReminderKind(deps Deps) (*reminderKind, error) {
	k := &reminderKind{billing: deps.Billing, store: deps.Contacts, replyTo: deps.Lists.ReplyToInvoice, now: deps.Now}
	if deps.PaymentURL != "" {
		t, err := template.New("payment_url").Option("missingkey=error").Parse(deps.PaymentURL)
		if err != nil {
			return nil, fmt.Errorf("HERALD_PAYMENT_URL_TEMPLATE: %w", err)
		}
		k.paymentURL = t
	}
	return k, nil
}

func (k *reminderKind) Name() ledger.Kind { return InvoiceReminder }

func (k *reminderKind) Templates() []templates.Spec {
	sample := func(days int) func() any {
		return func() any {
			return &InvoiceReminderData{
				Recipient:  Recipient{Email: "bob@example.com", Name: "Bob Example"},
				License:    LicenseRef{ID: "SEN-1234", Name: "Acme Corp"},
				Invoice:    InvoiceInfo{Number: "INV-2026-0042", Amount: "€1,250.00", AmountMinor: 125000, Currency: "EUR", DueDate: "2026-12-15"},
				Days:       days,
				PaymentURL: "https://billing.example.com/pay/INV-2026-0042",
				AccountURL: "https://herald.example.com/account",
			}
		}
	}
	return []templates.Spec{
		{Name: TemplateUpcoming, Sample: sample(7)},
		{Name: TemplateDue, Sample: sample(0)},
		{Name: TemplateOverdue, Sample: sample(7)},
	}
}

func (k *reminderKind) Open(a ledger.Announcement) (Announcement, error) {
	r := &reminderAnnouncement{kind: k}
	if err := decode(a, &r.params, &r.audience); err != nil {
		return nil, err
	}
	if k.billing == nil {
		return nil, fmt.Errorf("an invoice reminder needs billing, and this herald has none")
	}
	return r, nil
}

type reminderAnnouncement struct {
	kind     *reminderKind
	params   ReminderParams
	audience ReminderAudience
}

func (r *reminderAnnouncement) Audience() ledger.Audience {
	query, args := contacts.BillingAudienceQuery(r.audience.LicenseID, r.audience.MainOnly)
	// Invoice reminders are transactional: opting out of release notices
	// does not silence them.
	return ledger.Audience{Query: query, Args: args, OptOut: ledger.NoOptOut}
}

func (r *reminderAnnouncement) Batch(ctx context.Context, emails []string) (Batch, error) {
	inv, err := r.kind.billing.Lookup(ctx, r.params.Number)
	if err != nil {
		return nil, err
	}
	people, err := r.kind.store.Recipients(ctx, emails, contacts.Billing, contacts.Scope{LicenseID: inv.LicenseID})
	if err != nil {
		return nil, err
	}
	return &reminderBatch{reminderAnnouncement: r, people: people, invoice: inv}, nil
}

// reminderBatch reads the invoice again for every message, just before it
// is sent: an invoice paid or voided since the reminder was made is never
// reminded of.
type reminderBatch struct {
	*reminderAnnouncement
	people  map[string]contacts.Recipient
	invoice billing.InvoiceOfLicense
}

func (b *reminderBatch) Check(ctx context.Context) (string, error) {
	inv, err := b.kind.billing.Lookup(ctx, b.params.Number)
	if err != nil {
		return "", err
	}
	b.invoice = inv
	switch inv.Status {
	case billing.Paid:
		return "invoice paid", nil
	case billing.Void:
		return "invoice void", nil
	}
	return "", nil
}

func (b *reminderBatch) Compose(email string) (Draft, string) {
	inv := b.invoice
	rec, found := b.people[email]
	switch {
	case !found:
		return Draft{}, "contact deleted"
	case rec.Suppressed:
		return Draft{}, "suppressed"
	case len(rec.Licenses) == 0:
		return Draft{}, "no longer a billing contact of " + inv.LicenseID
	}
	// The message says what is true on the day it is written, which is
	// not always its step's day: a step caught up after a missed run, or
	// retried for days, says the invoice was due, never "due today" for
	// a day gone by.
	days := inv.DaysPastDue(b.kind.now())
	template := reminderTemplate(days)
	if days < 0 {
		days = -days
	}
	license := LicenseRef{ID: inv.LicenseID, Name: inv.LicenseName}
	return Draft{
		Template: template,
		Locale:   rec.Locale,
		ToName:   rec.Name,
		ReplyTo:  b.kind.replyTo,
		Headers:  [][2]string{autoSubmitted},
		Data: &InvoiceReminderData{
			Recipient: Recipient{Email: rec.Email, Name: rec.Name},
			License:   license,
			Invoice: InvoiceInfo{
				Number: inv.Number, Amount: templates.FormatAmount(inv.AmountMinor, inv.Currency, rec.Locale),
				AmountMinor: inv.AmountMinor, Currency: inv.Currency, DueDate: inv.DueDate,
			},
			Days:       days,
			PaymentURL: b.kind.payURL(PaymentURLData{Invoice: inv.Invoice, License: license}),
			AccountURL: b.kind.accountURL,
		},
	}, ""
}

// payURL fills in HERALD_PAYMENT_URL_TEMPLATE; a result that is not an
// http(s) URL is left out rather than sent.
func (k *reminderKind) payURL(data PaymentURLData) string {
	if k.paymentURL == nil {
		return ""
	}
	var buf bytes.Buffer
	if err := k.paymentURL.Execute(&buf, data); err != nil {
		return ""
	}
	u, err := url.Parse(buf.String())
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return u.String()
}
