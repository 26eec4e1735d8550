package templates

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

// ReleaseInfo is the release a notice announces. Notes are Markdown.
type ReleaseInfo struct {
	Product string `json:"product"`
	Version string `json:"version"`
	Title   string `json:"title"`
	Notes   string `json:"notes"`
	URL     string `json:"url"`
}

// ReleaseNotice is the data of the "release" template: one message to one
// technical contact, naming every license through which they hear of it.
type ReleaseNotice struct {
	Recipient Recipient    `json:"recipient"`
	Release   ReleaseInfo  `json:"release"`
	Licenses  []LicenseRef `json:"licenses"`
	// UnsubscribeURL is the recipient's one-click unsubscribe link.
	UnsubscribeURL string `json:"unsubscribe_url"`
}

// Broadcast is the data of the "broadcast" template: a message written by
// staff. Body is Markdown.
type Broadcast struct {
	Recipient      Recipient `json:"recipient"`
	Subject        string    `json:"subject"`
	Body           string    `json:"body"`
	UnsubscribeURL string    `json:"unsubscribe_url"`
}

// InvoiceInfo is the invoice a reminder is about, formatted for the
// recipient's locale.
type InvoiceInfo struct {
	Number      string `json:"number"`
	Amount      string `json:"amount"` // "€ 1,250.00"
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	DueDate     string `json:"due_date"` // YYYY-MM-DD
}

// InvoiceReminder is the data of the invoice_upcoming, invoice_due and
// invoice_overdue templates.
type InvoiceReminder struct {
	Recipient Recipient   `json:"recipient"`
	License   LicenseRef  `json:"license"`
	Invoice   InvoiceInfo `json:"invoice"`
	// Days is how many days the due date is away: before it for the
	// upcoming reminder, after it for the overdue one.
	Days int `json:"days"`
	// PaymentURL is where to pay, when herald is configured with one.
	PaymentURL string `json:"payment_url"`
}

func sampleReminder(days int) func() any {
	return func() any {
		return &InvoiceReminder{
			Recipient:  Recipient{Email: "bob@example.com", Name: "Bob Example"},
			License:    LicenseRef{ID: "SEN-1234", Name: "Acme Corp"},
			Invoice:    InvoiceInfo{Number: "INV-2026-0042", Amount: "€ 1,250.00", AmountMinor: 125000, Currency: "EUR", DueDate: "2026-12-15"},
			Days:       days,
			PaymentURL: "https://billing.example.com/pay/INV-2026-0042",
		}
	}
}

// kinds maps each template name to a constructor of its data, filled with
// the sample that every template is tried on at start and that previews
// use when given no data.
var kinds = map[string]func() any{
	"release": func() any {
		return &ReleaseNotice{
			Recipient: Recipient{Email: "ann@example.com", Name: "Ann Example"},
			Release: ReleaseInfo{
				Product: "jira", Version: "9.4.0", Title: "Jira 9.4",
				Notes: "## What's new\n\n* Faster boards\n* A **new** API for [automation](https://example.com/automation)\n",
				URL:   "https://example.com/releases/jira-9.4",
			},
			Licenses:       []LicenseRef{{ID: "SEN-1234", Name: "Acme Corp"}, {ID: "SEN-5678", Name: "Acme Labs"}},
			UnsubscribeURL: "https://herald.example.com/unsubscribe/sample-token",
		}
	},
	"broadcast": func() any {
		return &Broadcast{
			Recipient:      Recipient{Email: "ann@example.com", Name: "Ann Example"},
			Subject:        "Planned maintenance on 12 December",
			Body:           "Dear customer,\n\nour license servers will be **offline** on 12 December from 06:00 to 07:00 UTC.\n\n* Running instances are not affected\n* [Status page](https://status.example.com)\n",
			UnsubscribeURL: "https://herald.example.com/unsubscribe/sample-token",
		}
	},
	"invoice_upcoming": sampleReminder(7),
	"invoice_due":      sampleReminder(0),
	"invoice_overdue":  sampleReminder(7),
}

// Sample returns the sample data of a template, as a pointer that JSON can
// be decoded into.
func Sample(name string) (any, bool) {
	mk, ok := kinds[name]
	if !ok {
		return nil, false
	}
	return mk(), true
}
