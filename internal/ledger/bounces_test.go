package ledger_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
)

// releaseOptOut is the opt-out of every announcement in these tests, as
// the kinds registry says of a release.
func releaseOptOut(ledger.Announcement) (ledger.OptOut, error) { return ledger.ReleaseOptOut, nil }

// sentTo is a ledger whose announcement was sent to emails, with its sink.
func sentTo(t *testing.T, database dbtest.Database, optOut func(ledger.Announcement) (ledger.OptOut, error), emails ...string) (*ledger.Ledger, *testBundle, *ledger.Bounces, ledger.Announcement, map[string]ledger.Delivery) {
	t.Helper()
	led, b, a, ds := sendingLedger(t, database, 100, emails...)
	for _, d := range ds {
		settle(t, led, d, ledger.DeliverySent)
	}
	return led, b, ledger.NewBounces(led, b.contacts, optOut), a, deliveries(t, led, a.ID)
}

func record(t *testing.T, sink *ledger.Bounces, e bounce.Event) (bool, string) {
	t.Helper()
	applied, reason, err := sink.Record(context.Background(), e)
	if err != nil {
		t.Fatalf("Record %+v: %v", e, err)
	}
	return applied, reason
}

func TestBounces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("AHardBounceOfAMailboxSuppressesOnce", func(t *testing.T) {
			t.Parallel()
			led, b, sink, a, ds := sentTo(t, database, releaseOptOut, "ann@acme.test", "bob@acme.test")
			d := ds["ann@acme.test"]
			e := bounce.Event{Kind: bounce.Hard, Delivery: d.ID, Recipient: "Ann@ACME.test", Code: "5.1.1",
				Diagnostic: "smtp; 550 5.1.1 <ann@acme.test>: user unknown", Mailbox: true, Source: "smtp", EventID: "<dsn-1@mx.acme.test>"}
			if applied, reason := record(t, sink, e); !applied {
				t.Fatalf("a hard bounce was not applied: %s", reason)
			}
			got := get(t, led, a.ID)
			if got.Counts.Bounced != 1 || got.Counts.Sent != 1 || got.Counts.Recipients != 2 {
				t.Errorf("counts %+v, want 1 bounced and 1 sent of 2", got.Counts)
			}
			after := deliveries(t, led, a.ID)["ann@acme.test"]
			if after.Status != ledger.DeliveryBounced || !strings.Contains(after.Reason, "5.1.1") {
				t.Errorf("delivery %+v, want bounced with the code in its reason", after)
			}
			c, err := b.contacts.GetContact(ctx, "ann@acme.test")
			if err != nil || c.Suppression == nil || !strings.Contains(c.Suppression.Reply, "user unknown") {
				t.Errorf("contact %+v (%v), want suppressed by the bounce", c, err)
			}
			// The same report again (a relay that sends it twice, a
			// provider's retry): once.
			if applied, reason := record(t, sink, e); applied || reason != "already recorded" {
				t.Errorf("a repeat: applied %v (%s), want once", applied, reason)
			}
			events, err := led.Events(ctx, []int64{d.ID})
			if err != nil || len(events[d.ID]) != 1 {
				t.Fatalf("events %+v, %v; want one", events, err)
			}
			if ev := events[d.ID][0]; ev.Kind != bounce.Hard || ev.Code != "5.1.1" || ev.Source != "smtp" {
				t.Errorf("event %+v", ev)
			}
			if got := get(t, led, a.ID); got.Counts.Bounced != 1 || got.HardBounces != 1 {
				t.Errorf("after the repeat: counts %+v, hard bounces %d; want 1", got.Counts, got.HardBounces)
			}
		})

		t.Run("APolicyRefusalBouncesWithoutSuppressing", func(t *testing.T) {
			t.Parallel()
			led, b, sink, a, ds := sentTo(t, database, releaseOptOut, "ann@acme.test")
			record(t, sink, bounce.Event{Kind: bounce.Hard, Delivery: ds["ann@acme.test"].ID, Code: "5.7.1",
				Diagnostic: "message refused as spam", Source: "sendgrid", EventID: "sg-1"})
			if got := get(t, led, a.ID); got.Counts.Bounced != 1 {
				t.Errorf("counts %+v, want 1 bounced", got.Counts)
			}
			if c, err := b.contacts.GetContact(ctx, "ann@acme.test"); err != nil || c.Suppression != nil {
				t.Errorf("contact %+v (%v), want not suppressed: the mailbox exists", c, err)
			}
		})

		t.Run("ThreeSoftBouncesWithin30DaysSuppress", func(t *testing.T) {
			t.Parallel()
			_, b, sink, _, ds := sentTo(t, database, releaseOptOut, "ann@acme.test")
			d := ds["ann@acme.test"]
			soft := func(i int, at time.Time) {
				record(t, sink, bounce.Event{Kind: bounce.Soft, Delivery: d.ID, Code: "4.2.2", Diagnostic: "mailbox full",
					Source: "ses", EventID: fmt.Sprintf("ses-%d", i), At: at})
			}
			suppressed := func() bool {
				c, err := b.contacts.GetContact(ctx, "ann@acme.test")
				if err != nil {
					t.Fatal(err)
				}
				return c.Suppression != nil
			}
			// The first is older than the window when the third comes.
			soft(1, t0.Add(-40*24*time.Hour))
			soft(2, t0.Add(-2*24*time.Hour))
			soft(3, t0)
			if suppressed() {
				t.Fatal("suppressed after two soft bounces within 30 days")
			}
			soft(4, t0)
			if !suppressed() {
				t.Fatal("not suppressed after three soft bounces within 30 days")
			}
		})

		t.Run("ADelayIsRecordedOnly", func(t *testing.T) {
			t.Parallel()
			led, b, sink, a, ds := sentTo(t, database, releaseOptOut, "ann@acme.test")
			d := ds["ann@acme.test"]
			if applied, _ := record(t, sink, bounce.Event{Kind: bounce.Delay, Delivery: d.ID, Code: "4.4.7", Source: "smtp", EventID: "delay-1"}); !applied {
				t.Fatal("a delay was not recorded")
			}
			if got := get(t, led, a.ID); got.Counts.Sent != 1 || got.Counts.Bounced != 0 {
				t.Errorf("counts %+v, want still sent", got.Counts)
			}
			if c, _ := b.contacts.GetContact(ctx, "ann@acme.test"); c.Suppression != nil {
				t.Error("a delay suppressed the address")
			}
		})

		t.Run("AComplaintOptsOutOfItsKindOfMail", func(t *testing.T) {
			t.Parallel()
			led, b, sink, a, ds := sentTo(t, database, releaseOptOut, "ann@acme.test")
			e := bounce.Event{Kind: bounce.Complaint, Delivery: ds["ann@acme.test"].ID, Source: "smtp", EventID: "arf-1"}
			if applied, reason := record(t, sink, e); !applied {
				t.Fatalf("a complaint was not applied: %s", reason)
			}
			e.EventID = "arf-2" // a second report of the same message
			record(t, sink, e)
			got := get(t, led, a.ID)
			if got.Counts.Complained != 1 || got.Counts.Sent != 1 {
				t.Errorf("counts %+v, want 1 complained (and still sent)", got.Counts)
			}
			c, err := b.contacts.GetContact(ctx, "ann@acme.test")
			if err != nil || !c.ReleaseOptOut || c.BroadcastOptOut || c.Suppression != nil {
				t.Errorf("contact %+v (%v), want opted out of release notices only", c, err)
			}
		})

		t.Run("AComplaintAboutBillingMailStopsNothing", func(t *testing.T) {
			t.Parallel()
			billing := func(ledger.Announcement) (ledger.OptOut, error) { return ledger.NoOptOut, nil }
			led, b, sink, a, ds := sentTo(t, database, billing, "ann@acme.test")
			record(t, sink, bounce.Event{Kind: bounce.Complaint, Delivery: ds["ann@acme.test"].ID, Source: "postmark", EventID: "pm-1"})
			if got := get(t, led, a.ID); got.Counts.Complained != 1 {
				t.Errorf("counts %+v, want the complaint counted for staff", got.Counts)
			}
			if c, _ := b.contacts.GetContact(ctx, "ann@acme.test"); c.ReleaseOptOut || c.BroadcastOptOut || c.Suppression != nil {
				t.Errorf("contact %+v: a complaint about an invoice reminder stopped mail", c)
			}
		})

		t.Run("WhatCannotBeTiedToItsDeliveryChangesNothing", func(t *testing.T) {
			t.Parallel()
			led, b, sink, a, ds := sentTo(t, database, releaseOptOut, "ann@acme.test")
			d := ds["ann@acme.test"]
			for _, e := range []bounce.Event{
				{Kind: bounce.Hard, Delivery: d.ID, Recipient: "bob@acme.test", Mailbox: true, Source: "smtp", EventID: "x-1"},
				{Kind: bounce.Hard, Delivery: d.ID + 1000, Mailbox: true, Source: "smtp", EventID: "x-2"},
				{Kind: bounce.Hard, Delivery: 0, Source: "smtp", EventID: "x-3"},
				{Kind: "deleted", Delivery: d.ID, Source: "smtp", EventID: "x-4"},
				{Kind: bounce.Hard, Delivery: d.ID, Source: "", EventID: "x-5"},
				{Kind: bounce.Hard, Delivery: d.ID, Source: "smtp", EventID: ""},
				{Kind: bounce.Hard, Delivery: d.ID, Source: "smtp", EventID: strings.Repeat("x", 600)},
			} {
				if applied, reason := record(t, sink, e); applied || reason == "" {
					t.Errorf("event %+v: applied %v (%q), want refused with a reason", e, applied, reason)
				}
			}
			if got := get(t, led, a.ID); got.Counts.Bounced != 0 || got.Counts.Sent != 1 {
				t.Errorf("counts %+v, want unchanged", got.Counts)
			}
			if c, _ := b.contacts.GetContact(ctx, "ann@acme.test"); c.Suppression != nil {
				t.Error("the address was suppressed")
			}
		})

		t.Run("AnUnsentDeliveryDoesNotBounce", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := sendingLedger(t, database, 100, "ann@acme.test")
			sink := ledger.NewBounces(led, nil, releaseOptOut)
			applied, reason := record(t, sink, bounce.Event{Kind: bounce.Hard, Delivery: ds["ann@acme.test"].ID, Source: "smtp", EventID: "early"})
			if applied || !strings.Contains(reason, "not sent") {
				t.Errorf("a bounce of a pending delivery: applied %v (%q)", applied, reason)
			}
			if got := get(t, led, a.ID); got.Counts.Pending != 1 {
				t.Errorf("counts %+v", got.Counts)
			}
		})
	})
}

// TestGuardRails sends 1,200 messages of which 1,000 are sent, and checks
// that complaints over 0.3% or hard bounces over 5% pause the announcement
// for staff, only once it has sent 1,000.
func TestGuardRails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emails := make([]string, 1200)
	for i := range emails {
		emails[i] = fmt.Sprintf("p%04d@acme.test", i)
	}
	// sent marks the first n deliveries sent at once, as a worker's
	// outcomes would, one statement instead of n claims.
	sent := func(t *testing.T, b *testBundle, a ledger.Announcement, n int) {
		t.Helper()
		if _, err := db.Exec(ctx, b.db, `UPDATE deliveries SET status = 'sent', attempts = 1, sent_at = ?
			WHERE announcement_id = ? AND email < ?`, t0, a.ID, emails[n]); err != nil {
			t.Fatal(err)
		}
	}
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		for _, tc := range []struct {
			name       string
			kind       bounce.Kind
			sent, safe int // messages sent; events that stay within the limit
		}{
			{"Complaints", bounce.Complaint, 1000, 3},
			{"HardBounces", bounce.Hard, 1000, 50},
			{"NotBeforeAThousand", bounce.Complaint, 900, 30},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				led, b, a, _ := sendingLedger(t, database, 100, emails...)
				sent(t, b, a, tc.sent)
				ds := deliveries(t, led, a.ID)
				sink := ledger.NewBounces(led, b.contacts, releaseOptOut)
				event := func(i int) {
					record(t, sink, bounce.Event{Kind: tc.kind, Delivery: ds[emails[i]].ID, Code: "5.7.1", Source: "smtp", EventID: fmt.Sprintf("e-%d", i)})
				}
				for i := range tc.safe {
					event(i)
				}
				if got := get(t, led, a.ID); got.Status != ledger.Sending {
					t.Fatalf("paused at %d %s of %d sent: %s", tc.safe, tc.kind, tc.sent, got.PausedReason)
				}
				event(tc.safe)
				got := get(t, led, a.ID)
				if tc.sent < ledger.GuardAfter {
					if got.Status != ledger.Sending {
						t.Fatalf("paused before %d messages were sent: %s", ledger.GuardAfter, got.PausedReason)
					}
					return
				}
				if got.Status != ledger.Paused || got.PausedBy != ledger.PausedByGuardRails || !strings.Contains(got.PausedReason, "over the limits") {
					t.Fatalf("after %d %s of %d sent: %s by %q (%s), want paused by the guard rails", tc.safe+1, tc.kind, tc.sent, got.Status, got.PausedBy, got.PausedReason)
				}
				// Such a pause waits for staff: the relay working again
				// does not resume it.
				if _, err := led.ResumeForRelay(ctx); err != nil {
					t.Fatal(err)
				}
				if got := get(t, led, a.ID); got.Status != ledger.Paused {
					t.Errorf("the guard rails' pause ended by itself: %s", got.Status)
				}
			})
		}
	})
}
