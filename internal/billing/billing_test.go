package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
)

type testBundle struct {
	*apptest.Bundle
}

// setup runs herald on database with its clock stopped at 1 December 2026,
// 09:00 UTC.
func setup(t *testing.T, database dbtest.Database) *testBundle {
	t.Helper()
	b := &testBundle{apptest.Start(t, apptest.Options{Database: database})}
	b.Clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	return b
}

func (b *testBundle) license(t *testing.T, id, tz string) {
	t.Helper()
	if _, err := b.Contacts.CreateLicense(context.Background(), contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, contacts.NewLicense{ID: id, Product: "jira", Name: "Customer " + id, Timezone: tz,
		Contacts: []contacts.NewMember{
			{Email: "main@" + strings.ToLower(id) + ".test", Role: contacts.Billing},
			{Email: "other@" + strings.ToLower(id) + ".test", Role: contacts.Billing},
		}}); err != nil {
		t.Fatal(err)
	}
}

func amount(n int64) *int64 { return &n }

func (b *testBundle) invoice(t *testing.T, number, license, due string) {
	t.Helper()
	if _, _, err := b.Billing.Put(context.Background(), number, billing.InvoiceInput{
		LicenseID: license, AmountMinor: amount(125000), Currency: "EUR", DueDate: due,
	}); err != nil {
		t.Fatal(err)
	}
}

func TestInvoices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("PutCreatesThenUpdates", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "SEN-1", "UTC")
			inv, created, err := b.Billing.Put(ctx, "INV-1", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: amount(125000), Currency: "eur", DueDate: "2026-12-15"})
			if err != nil || !created {
				t.Fatalf("Put = %v, created %v", err, created)
			}
			if inv.Currency != "EUR" || inv.Status != billing.Open {
				t.Errorf("created: %+v", inv)
			}
			inv, created, err = b.Billing.Put(ctx, "INV-1", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: amount(99), Currency: "JPY", DueDate: "2026-12-20", Status: billing.Paid})
			if err != nil || created || inv.AmountMinor != 99 || inv.Currency != "JPY" || inv.Status != billing.Paid {
				t.Errorf("update: %+v, created %v, %v", inv, created, err)
			}
			p, err := b.Billing.List(ctx, billing.Filter{Status: billing.Paid, LicenseID: "SEN-1"})
			if err != nil || len(p.Items) != 1 {
				t.Errorf("List = %+v, %v", p.Items, err)
			}
		})

		t.Run("BadInvoicesNameTheFieldAndChangeNothing", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "SEN-1", "UTC")
			good := billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: amount(100), Currency: "EUR", DueDate: "2026-12-15"}
			for _, tc := range []struct {
				name, number, field string
				edit                func(*billing.InvoiceInput)
			}{
				{"NegativeAmount", "INV-1", "amount_minor", func(in *billing.InvoiceInput) { in.AmountMinor = amount(-1) }},
				{"MissingAmount", "INV-1", "amount_minor", func(in *billing.InvoiceInput) { in.AmountMinor = nil }},
				{"UnknownCurrency", "INV-1", "currency", func(in *billing.InvoiceInput) { in.Currency = "EUX" }},
				{"CurrencyName", "INV-1", "currency", func(in *billing.InvoiceInput) { in.Currency = "Euro" }},
				{"UnknownLicense", "INV-1", "license_id", func(in *billing.InvoiceInput) { in.LicenseID = "SEN-404" }},
				{"BadDate", "INV-1", "due_date", func(in *billing.InvoiceInput) { in.DueDate = "2026-02-30" }},
				{"DateWithTime", "INV-1", "due_date", func(in *billing.InvoiceInput) { in.DueDate = "2026-12-15T00:00:00Z" }},
				{"DueBeforeTheBounds", "INV-1", "due_date", func(in *billing.InvoiceInput) { in.DueDate = "1989-12-31" }},
				{"DueAfterTheBounds", "INV-1", "due_date", func(in *billing.InvoiceInput) { in.DueDate = "2201-01-01" }},
				{"DueInYearOne", "INV-1", "due_date", func(in *billing.InvoiceInput) { in.DueDate = "0001-01-01" }},
				{"BadStatus", "INV-1", "status", func(in *billing.InvoiceInput) { in.Status = "late" }},
				{"CRLFInNumber", "INV-1\r\nBcc: x", "number", func(*billing.InvoiceInput) {}},
				{"EmptyNumber", "", "number", func(*billing.InvoiceInput) {}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					in := good
					tc.edit(&in)
					_, _, err := b.Billing.Put(ctx, tc.number, in)
					f, ok := fault.As(err)
					if !ok || f.Kind != fault.KindInvalid || f.Field != tc.field {
						t.Fatalf("Put = %v, want invalid %s", err, tc.field)
					}
					if p, _ := b.Billing.List(ctx, billing.Filter{}); len(p.Items) != 0 {
						t.Errorf("an invoice was stored: %+v", p.Items)
					}
				})
			}
			if _, err := b.Billing.Get(ctx, "INV-404"); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Get unknown = %v", err)
			}
		})

		t.Run("DueDatesWithinTheBounds", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "SEN-1", "UTC")
			b.invoice(t, "INV-FIRST", "SEN-1", billing.EarliestDueDate)
			b.invoice(t, "INV-LAST", "SEN-1", billing.LatestDueDate)
			_, err := importCSV(b, "number,license_id,amount_minor,currency,due_date\n"+
				"INV-1,SEN-1,100,EUR,1990-01-01\n"+
				"INV-2,SEN-1,100,EUR,1989-12-31\n"+
				"INV-3,SEN-1,100,EUR,2200-12-31\n"+
				"INV-4,SEN-1,100,EUR,2201-01-01\n")
			var ie *contacts.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("import = %v", err)
			}
			var bad []string
			for _, l := range ie.Lines {
				bad = append(bad, fmt.Sprintf("%d %s", l.Line, l.Message))
			}
			if len(bad) != 2 || !strings.HasPrefix(bad[0], "3 due_date: ") || !strings.HasPrefix(bad[1], "5 due_date: ") {
				t.Errorf("bad lines: %q", bad)
			}
		})

		t.Run("ImportIsAllOrNothing", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "SEN-1", "UTC")
			_, err := importCSV(b, "number,license_id,amount_minor,currency,due_date,status\n"+
				"INV-1,SEN-1,100,EUR,2026-12-15,open\n"+
				"INV-2,SEN-9,100,EUR,2026-12-15,open\n"+
				"INV-3,SEN-1,-5,EUR,2026-12-15,open\n"+
				"INV-4,SEN-1,1.50,EUR,2026-12-15,open\n"+
				"INV-1,SEN-1,100,EUR,2026-12-16,open\n")
			var ie *contacts.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("import = %v", err)
			}
			var lines []int
			for _, l := range ie.Lines {
				lines = append(lines, l.Line)
			}
			if diff := cmp.Diff([]int{4, 5, 6}, lines); diff != "" {
				t.Errorf("bad lines (-want +got):\n%s%+v", diff, ie.Lines)
			}
			// Line 3's unknown license is found once the file itself is fine.
			_, err = importCSV(b, "number,license_id,amount_minor,currency,due_date,status\nINV-1,SEN-1,100,EUR,2026-12-15,open\nINV-2,SEN-9,100,EUR,2026-12-15,open\n")
			if !errors.As(err, &ie) || len(ie.Lines) != 1 || ie.Lines[0].Line != 3 {
				t.Errorf("import with an unknown license = %v", err)
			}
			if p, _ := b.Billing.List(ctx, billing.Filter{}); len(p.Items) != 0 {
				t.Errorf("something was imported: %+v", p.Items)
			}
			res, err := importCSV(b, "number,license_id,amount_minor,currency,due_date\nINV-1,SEN-1,100,EUR,2026-12-15\nINV-2,SEN-1,0,JPY,2027-01-31\n")
			if err != nil || res != (billing.ImportResult{Created: 2}) {
				t.Errorf("import = %+v, %v", res, err)
			}
		})

		t.Run("ImportReadsSemicolonsAndTabs", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "SEN-1", "UTC")
			for _, tc := range []struct{ name, data, number string }{
				{"Semicolon", "number;license_id;amount_minor;currency;due_date\r\nINV-1;SEN-1;125000;EUR;2026-12-15\r\n", "INV-1"},
				{"Tab", "Number\tLicense_ID\tamount_minor\tcurrency\tdue_date\tstatus\nINV-2\tSEN-1\t125000\tEUR\t2026-12-15\topen\n", "INV-2"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res, err := importCSV(b, tc.data)
					if err != nil || res != (billing.ImportResult{Created: 1}) {
						t.Fatalf("import = %+v, %v", res, err)
					}
					inv, err := b.Billing.Get(ctx, tc.number)
					if err != nil || inv.AmountMinor != 125000 || inv.LicenseID != "SEN-1" || inv.DueDate != "2026-12-15" {
						t.Errorf("invoice = %+v, %v", inv, err)
					}
				})
			}
			_, err := importCSV(b, "number;license;amount_minor;currency;due_date\nINV-3;SEN-1;1;EUR;2026-12-15\n")
			var ie *contacts.ImportError
			if !errors.As(err, &ie) || len(ie.Lines) != 1 || !strings.Contains(ie.Lines[0].Message, "the file seems to use ';' as separator") {
				t.Errorf("import with a misspelt column = %v", err)
			}
		})
	})
}

func importCSV(b *testBundle, data string) (billing.ImportResult, error) {
	rows, err := billing.ReadCSV(strings.NewReader(data))
	if err != nil {
		return billing.ImportResult{}, err
	}
	return b.Billing.Import(context.Background(), rows)
}

// reminder is what a test looks at of a reminder announcement.
type reminder struct {
	Day      string
	Key      string
	Template string
	MainOnly bool
}

// month runs the reminder job once a day, at 09:00 UTC, from first to last,
// skipping the days in down, and returns what each run made.
func (b *testBundle) month(t *testing.T, first, last string, down map[string]bool, each func(day string)) []reminder {
	t.Helper()
	cad := billing.Cadence{Offsets: []int{-7, 0, 7, 14}, AllFrom: 0}
	start, _ := time.Parse(time.DateOnly, first)
	end, _ := time.Parse(time.DateOnly, last)
	var got []reminder
	for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		b.Clock.Set(d.Add(9 * time.Hour))
		if each != nil {
			each(day)
		}
		if down[day] {
			continue
		}
		made, err := b.Billing.Remind(context.Background(), cad, "", kinds.ReminderAnnouncement)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range made {
			var aud kinds.ReminderAudience
			if err := json.Unmarshal(a.Audience, &aud); err != nil {
				t.Fatal(err)
			}
			got = append(got, reminder{Day: day, Key: a.DedupeKey, Template: a.Template, MainOnly: aud.MainOnly})
		}
	}
	return got
}

func TestReminderCadence(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("EveryStepOnItsDay", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "SEN-1", "UTC")
			b.invoice(t, "INV-1", "SEN-1", "2026-12-15")
			got := b.month(t, "2026-12-01", "2027-01-31", nil, nil)
			want := []reminder{
				{"2026-12-08", "invoice:INV-1:-7", "invoice_upcoming", true},
				{"2026-12-15", "invoice:INV-1:0", "invoice_due", false},
				{"2026-12-22", "invoice:INV-1:7", "invoice_overdue", false},
				{"2026-12-29", "invoice:INV-1:14", "invoice_overdue", false},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reminders (-want +got):\n%s", diff)
			}
			reminders, err := b.Ledger.ByRef(ctx, kinds.InvoiceReminder, "INV-1")
			if err != nil || len(reminders) != 4 {
				t.Errorf("invoice reminders: %d, %v", len(reminders), err)
			}
		})

		t.Run("PaidStopsTheCadence", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "SEN-1", "UTC")
			b.invoice(t, "INV-1", "SEN-1", "2026-12-15")
			got := b.month(t, "2026-12-01", "2027-01-31", nil, func(day string) {
				if day == "2026-12-10" {
					if _, _, err := b.Billing.Put(ctx, "INV-1", billing.InvoiceInput{LicenseID: "SEN-1", AmountMinor: amount(125000), Currency: "EUR", DueDate: "2026-12-15", Status: billing.Paid}); err != nil {
						t.Fatal(err)
					}
				}
			})
			if diff := cmp.Diff([]reminder{{"2026-12-08", "invoice:INV-1:-7", "invoice_upcoming", true}}, got); diff != "" {
				t.Errorf("reminders (-want +got):\n%s", diff)
			}
		})

		t.Run("MissedDaysAreCaughtUpOnce", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "SEN-1", "UTC")
			b.invoice(t, "INV-1", "SEN-1", "2026-12-15")
			down := map[string]bool{}
			for d := 12; d <= 23; d++ { // down over the due date and the first overdue step
				down[fmt.Sprintf("2026-12-%02d", d)] = true
			}
			got := b.month(t, "2026-12-01", "2027-01-31", down, nil)
			want := []reminder{
				{"2026-12-08", "invoice:INV-1:-7", "invoice_upcoming", true},
				{"2026-12-24", "invoice:INV-1:7", "invoice_overdue", false},
				{"2026-12-29", "invoice:INV-1:14", "invoice_overdue", false},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reminders (-want +got):\n%s", diff)
			}
		})

		t.Run("EachLicenseOnItsOwnLocalDay", func(t *testing.T) {
			b := setup(t, database)
			b.license(t, "NZ-1", "Pacific/Auckland")
			b.license(t, "US-1", "America/Los_Angeles")
			b.invoice(t, "INV-NZ", "NZ-1", "2026-12-15")
			b.invoice(t, "INV-US", "US-1", "2026-12-15")
			cad := billing.Cadence{Offsets: []int{-7, 0, 7, 14}}
			var got []string
			// Every hour from 6 to 9 December, UTC.
			for h := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC); h.Before(time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)); h = h.Add(time.Hour) {
				b.Clock.Set(h)
				made, err := b.Billing.Remind(ctx, cad, "", kinds.ReminderAnnouncement)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range made {
					got = append(got, a.DedupeKey+" at "+h.Format("2006-01-02T15Z"))
				}
			}
			// 8 December begins at 2026-12-07T11:00Z in Auckland (UTC+13) and
			// at 2026-12-08T08:00Z in Los Angeles (UTC-8).
			want := []string{"invoice:INV-NZ:-7 at 2026-12-07T11Z", "invoice:INV-US:-7 at 2026-12-08T08Z"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("reminders (-want +got):\n%s", diff)
			}
		})

		t.Run("AsOfRunsADayOnceAndNamesBadDates", func(t *testing.T) {
			b := setup(t, database)
			b.Clock.Set(time.Date(2026, 12, 10, 9, 0, 0, 0, time.UTC))
			b.license(t, "SEN-1", "UTC")
			b.invoice(t, "INV-1", "SEN-1", "2026-12-15")
			cad := billing.Cadence{Offsets: []int{-7, 0, 7, 14}}
			for i, want := range []int{1, 0} {
				made, err := b.Billing.Remind(ctx, cad, "2026-12-08", kinds.ReminderAnnouncement)
				if err != nil || len(made) != want {
					t.Errorf("run %d: %d reminders, %v; want %d", i+1, len(made), err, want)
				}
			}
			for _, bad := range []string{"08.12.2026", "2026-12-12"} {
				if _, err := b.Billing.Remind(ctx, cad, bad, kinds.ReminderAnnouncement); !errors.Is(err, fault.Invalid("as_of", "")) {
					t.Errorf("as_of %s = %v, want invalid", bad, err)
				}
			}
		})
	})
}

// TestDaysPastDue: days are counted on the calendar of the license's
// timezone, across DST changes, leap days and centuries, and never
// saturate (an invoice due 0001-01-01, stored before due dates were
// bounded, is 739,950 days overdue, not the 106,751 of a time.Duration).
func TestDaysPastDue(t *testing.T) {
	t.Parallel()

	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name, zone, due string
		now             time.Time
		want            int
	}{
		{"DueToday", "UTC", "2026-12-01", at("2026-12-01T09:00:00Z"), 0},
		{"LastSecondOfTheDueDay", "UTC", "2026-12-01", at("2026-12-01T23:59:59Z"), 0},
		{"AWeekBefore", "UTC", "2026-12-08", at("2026-12-01T09:00:00Z"), -7},
		// 2026-03-29 has 23 hours in Berlin: half an hour after its end is
		// the next day, though less than 24 hours after its start.
		{"AfterSpringForward", "Europe/Berlin", "2026-03-29", at("2026-03-29T22:30:00Z"), 1},
		{"BeforeSpringForwardEnds", "Europe/Berlin", "2026-03-30", at("2026-03-29T21:59:00Z"), -1},
		// 2026-10-25 has 25 hours in Berlin: its last second is still it.
		{"LastSecondOfFallBack", "Europe/Berlin", "2026-10-25", at("2026-10-25T22:59:59Z"), 0},
		{"AfterFallBack", "Europe/Berlin", "2026-10-25", at("2026-10-25T23:00:00Z"), 1},
		{"NewYorkSpringForward", "America/New_York", "2026-03-08", at("2026-03-09T03:59:00Z"), 0},
		{"AheadOfUTC", "Pacific/Kiritimati", "2026-12-01", at("2026-11-30T10:00:00Z"), 0},
		{"BehindUTC", "Pacific/Pago_Pago", "2026-12-01", at("2026-12-01T10:59:00Z"), -1},
		{"AcrossTheYear", "Asia/Tokyo", "2026-12-31", at("2026-12-31T15:00:00Z"), 1},
		{"LeapDay", "UTC", "2028-02-28", at("2028-03-01T00:00:00Z"), 2},
		{"CenturyWithoutLeapDay", "UTC", "2100-02-28", at("2100-03-01T00:00:00Z"), 1},
		{"EarliestDueDate", "UTC", billing.EarliestDueDate, at("2026-12-01T09:00:00Z"), 13483},
		{"LatestDueDate", "UTC", billing.LatestDueDate, at("2026-12-01T09:00:00Z"), -63582},
		{"FarPast", "UTC", "0001-01-01", at("2026-12-01T09:00:00Z"), 739950},
		{"FarFuture", "UTC", "9999-12-31", at("2026-12-01T09:00:00Z"), -2912108},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := billing.InvoiceOfLicense{Invoice: billing.Invoice{DueDate: tc.due}, LicenseTimezone: tc.zone}
			if got := inv.DaysPastDue(tc.now); got != tc.want {
				t.Errorf("due %s, now %s in %s: %d days past due, want %d", tc.due, tc.now.Format(time.RFC3339), tc.zone, got, tc.want)
			}
		})
	}
}

func TestInvoicesSince(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.license(t, "SEN-1", "UTC")
		b.license(t, "SEN-2", "UTC")
		b.invoice(t, "INV-OLD", "SEN-1", "2026-12-20")
		b.Clock.Set(time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC))
		b.invoice(t, "INV-SAME-DAY", "SEN-1", "2026-12-30")
		b.Clock.Set(time.Date(2026, 12, 9, 8, 0, 0, 0, time.UTC))
		b.invoice(t, "INV-NEW", "SEN-1", "2027-01-10")
		b.invoice(t, "INV-OTHER", "SEN-2", "2027-01-10")

		// Added on 5 December at noon: the invoices of that day on.
		got, err := b.Billing.InvoicesSince(ctx, "SEN-1", time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		var numbers []string
		for _, inv := range got {
			numbers = append(numbers, inv.Number)
		}
		if diff := cmp.Diff([]string{"INV-NEW", "INV-SAME-DAY"}, numbers); diff != "" {
			t.Errorf("invoices (-want +got):\n%s", diff)
		}
		none, err := b.Billing.InvoicesSince(ctx, "SEN-404", time.Time{})
		if err != nil || none == nil || len(none) != 0 {
			t.Errorf("InvoicesSince(SEN-404) = %v, %v; want an empty list", none, err)
		}
	})
}
