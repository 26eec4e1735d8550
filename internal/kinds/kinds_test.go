package kinds_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
)

func newRegistry(t *testing.T) *kinds.Registry {
	t.Helper()
	reg, err := kinds.New(kinds.Deps{From: "Vendor <news@vendor.test>"})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestRegistry(t *testing.T) {
	t.Parallel()

	t.Run("KnowsEveryKind", func(t *testing.T) {
		reg := newRegistry(t)
		if diff := cmp.Diff([]ledger.Kind{kinds.Broadcast, kinds.ContactChange, kinds.InvoiceReminder, kinds.Release, kinds.SignIn, kinds.StaffSignIn}, reg.Names()); diff != "" {
			t.Errorf("names (-want +got):\n%s", diff)
		}
		var templates []string
		for _, s := range reg.Templates() {
			templates = append(templates, s.Name)
			if s.Sample() == nil {
				t.Errorf("template %s has no sample", s.Name)
			}
		}
		slices.Sort(templates)
		if diff := cmp.Diff([]string{"broadcast", "contact_change", "invoice_due", "invoice_overdue", "invoice_upcoming", "release", "sign_in", "staff_sign_in"}, templates); diff != "" {
			t.Errorf("templates (-want +got):\n%s", diff)
		}
	})

	t.Run("OnlySignInsAndContactChangeAreUrgent", func(t *testing.T) {
		reg := newRegistry(t)
		for _, k := range reg.Names() {
			if got, want := reg.Urgent(k), k == kinds.SignIn || k == kinds.StaffSignIn || k == kinds.ContactChange; got != want {
				t.Errorf("Urgent(%s) = %v, want %v", k, got, want)
			}
		}
	})

	t.Run("AnUnknownKindIsInvalidInput", func(t *testing.T) {
		reg := newRegistry(t)
		err := reg.Check("kind", "newsletter")
		f, ok := fault.As(err)
		if !ok || f.Kind != fault.KindInvalid || f.Field != "kind" {
			t.Fatalf("Check(newsletter) = %v, want invalid kind", err)
		}
		if err := reg.Check("kind", kinds.Release); err != nil {
			t.Errorf("Check(release) = %v", err)
		}
		if _, err := reg.Open(ledger.Announcement{ID: 7, Kind: "newsletter"}); err == nil || errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Open of an unknown kind = %v, want an error of the ledger's data, not of input", err)
		}
	})

	t.Run("ParamsThatDoNotDecodeAreAnError", func(t *testing.T) {
		reg := newRegistry(t)
		for _, k := range reg.Names() {
			if _, err := reg.Open(ledger.Announcement{ID: 7, Kind: k, Params: ledger.JSON(`[1]`), Audience: ledger.JSON(`{}`)}); err == nil {
				t.Errorf("%s: Open with params [1] succeeded", k)
			}
		}
	})

	t.Run("AReleaseAudienceHonoursOptOuts", func(t *testing.T) {
		reg := newRegistry(t)
		a, err := reg.Open(ledger.Announcement{Kind: kinds.Release, Params: ledger.JSON(`{"product":"jira"}`), Audience: ledger.JSON(`{"product":"jira"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if aud := a.Audience(); aud.OptOut != ledger.ReleaseOptOut || !slices.Contains(aud.Args, any("jira")) {
			t.Errorf("release audience %+v, want the release opt-out honoured for jira", aud)
		}
	})

	t.Run("EachKindHonoursItsOwnOptOut", func(t *testing.T) {
		reg := newRegistry(t)
		for _, tc := range []struct {
			kind     ledger.Kind
			audience string
			want     ledger.OptOut
		}{
			{kinds.Release, `{"product":"jira"}`, ledger.ReleaseOptOut},
			{kinds.Broadcast, `{}`, ledger.BroadcastOptOut},
			{kinds.ContactChange, `{"emails":["ann@acme.test"]}`, ledger.NoOptOut},
		} {
			a, err := reg.Open(ledger.Announcement{Kind: tc.kind, Params: ledger.JSON(`{}`), Audience: ledger.JSON(tc.audience)})
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Audience().OptOut; got != tc.want {
				t.Errorf("%s honours %q, want %q", tc.kind, got, tc.want)
			}
		}
	})

	t.Run("AReminderNeedsBilling", func(t *testing.T) {
		reg := newRegistry(t)
		_, err := reg.Open(ledger.Announcement{Kind: kinds.InvoiceReminder, Params: ledger.JSON(`{"number":"INV-1"}`), Audience: ledger.JSON(`{"license_id":"SEN-1"}`)})
		if err == nil {
			t.Fatal("an invoice reminder opened without billing")
		}
	})
}

func TestReminderAnnouncement(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		offset            int
		template, subject string
	}{
		{-7, "invoice_upcoming", "Invoice INV-1 is due in 7 days"},
		{0, "invoice_due", "Invoice INV-1 is due today"},
		{14, "invoice_overdue", "Invoice INV-1 is 14 days overdue"},
	} {
		na := kinds.ReminderAnnouncement(billing.Reminder{Number: "INV-1", LicenseID: "SEN-1", Offset: tc.offset, MainOnly: tc.offset < 0})
		if na.Kind != kinds.InvoiceReminder || na.Template != tc.template || na.Subject != tc.subject || na.Ref != "INV-1" ||
			na.DedupeKey != kinds.ReminderKey("INV-1", tc.offset) {
			t.Errorf("offset %d: %+v", tc.offset, na)
		}
		if aud := na.Audience.(kinds.ReminderAudience); aud.MainOnly != (tc.offset < 0) || aud.LicenseID != "SEN-1" {
			t.Errorf("offset %d: audience %+v", tc.offset, aud)
		}
	}
}
