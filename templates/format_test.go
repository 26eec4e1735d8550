package templates_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/templates"
)

func TestFormatAmount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		minor            int64
		currency, locale string
		want             string
	}{
		{123450, "EUR", "en", "€1,234.50"},
		{123450, "EUR", "de", "1.234,50 €"},
		{123450, "EUR", "", "€1,234.50"},
		{123450, "EUR", "not a locale", "€1,234.50"},
		{125050, "USD", "en", "$1,250.50"},
		{125050, "USD", "de", "1.250,50 $"},
		{125000, "CHF", "en", "CHF 1,250.00"},
		{0, "CHF", "de-CH", "CHF 0.00"},
		{125000, "EUR", "de-AT", "€ 1\u00a0250,00"},
		{125000, "EUR", "nl", "€ 1.250,00"},
		{125000, "JPY", "ja", "￥125,000"},
		{125000, "JPY", "en", "¥125,000"},
		{1250500, "KWD", "en", "KWD 1,250.500"},
		{5, "EUR", "en", "€0.05"},
		{5, "EUR", "de", "0,05 €"},
		{123450, "EUR", "fr", "1\u00a0234,50 €"},
		{123450, "EUR", "es", "1.234,50 €"},
		{123450, "USD", "es-MX", "USD 1,234.50"},
		{123450, "XYZ", "de", "123450 XYZ"},
	} {
		if got := templates.FormatAmount(tc.minor, tc.currency, tc.locale); got != tc.want {
			t.Errorf("FormatAmount(%d, %s, %q) = %q, want %q", tc.minor, tc.currency, tc.locale, got, tc.want)
		}
	}
}

func TestFormatDate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		date, locale, want string
	}{
		{"2026-11-30", "en", "30 November 2026"},
		{"2026-11-30", "", "30 November 2026"},
		{"2026-03-01", "de", "1. März 2026"},
		{"2026-03-01", "de-CH", "1. März 2026"},
		{"2026-03-01", "en-GB", "1 March 2026"},
		{"2026-03-01", "fr", "2026-03-01"},
		{"30.11.2026", "de", "30.11.2026"},
	} {
		if got := templates.FormatDate(tc.date, tc.locale); got != tc.want {
			t.Errorf("FormatDate(%s, %q) = %q, want %q", tc.date, tc.locale, got, tc.want)
		}
	}
}

// TestReminderLanguage renders reminders as a recipient of each locale
// gets them: the amount and date are written in the language of the
// message, which is the recipient's when herald has templates in it and
// English when it has not.
func TestReminderLanguage(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, nil)
	data := func() *kinds.InvoiceReminderData {
		return &kinds.InvoiceReminderData{
			Recipient: kinds.Recipient{Email: "bob@example.com", Name: "Bob"},
			License:   kinds.LicenseRef{ID: "SEN-1", Name: "Acme Corp"},
			Invoice:   kinds.InvoiceInfo{Number: "INV-1", AmountMinor: 123450, Currency: "EUR", DueDate: "2026-11-30"},
			Days:      3,
		}
	}
	for _, tc := range []struct {
		locale, subject string
		text            []string
	}{
		{"de", "Rechnung INV-1 für Acme Corp ist überfällig",
			[]string{"Hallo Bob,", "über 1.234,50 € war am 30. November 2026 fällig, vor 3 Tagen."}},
		{"de-AT", "Rechnung INV-1 für Acme Corp ist überfällig",
			[]string{"über 1.234,50 € war am 30. November 2026 fällig"}},
		{"en", "Invoice INV-1 for Acme Corp is overdue",
			[]string{"Hello Bob,", "over €1,234.50 was due on 30 November 2026, 3 days ago."}},
		{"fr", "Invoice INV-1 for Acme Corp is overdue",
			[]string{"over €1,234.50 was due on 30 November 2026, 3 days ago."}},
	} {
		msg, err := r.Render(kinds.TemplateOverdue, tc.locale, data())
		if err != nil {
			t.Fatalf("%s: %v", tc.locale, err)
		}
		if msg.Subject != tc.subject {
			t.Errorf("%s: subject %q, want %q", tc.locale, msg.Subject, tc.subject)
		}
		for _, want := range tc.text {
			if !strings.Contains(msg.Text, want) {
				t.Errorf("%s: text lacks %q:\n%s", tc.locale, want, msg.Text)
			}
			if want = strings.TrimSuffix(strings.Fields(want)[0], ","); !strings.Contains(msg.HTML, want) {
				t.Errorf("%s: HTML lacks %q", tc.locale, want)
			}
		}
	}
}

// TestEveryTemplateSpeaksGerman checks that a German contact never gets an
// English message: every template has its German files.
func TestEveryTemplateSpeaksGerman(t *testing.T) {
	t.Parallel()
	for _, in := range newRenderer(t, nil).List() {
		found := false
		for _, l := range in.Locales {
			found = found || l == "de"
		}
		if !found {
			t.Errorf("template %s has no German files (locales %v)", in.Name, in.Locales)
		}
	}
}
