package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
)

func TestSweepCancelled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup claims a, cancels the announcement while a is being sent
		// (b is cancelled at once) and moves the clock past a's lease.
		setup := func(t *testing.T) (*ledger.Ledger, *testBundle, ledger.Announcement, ledger.Delivery, ledger.Claim) {
			t.Helper()
			led, b, a, ds := sendingLedger(t, database, 100, "a@acme.test", "b@acme.test")
			d := ds["a@acme.test"]
			c := claim(t, led, d)
			if _, err := led.Cancel(ctx, a.ID); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			b.clock.Advance(lease + time.Second)
			return led, b, a, d, c
		}
		sweep := func(t *testing.T, led *ledger.Ledger) int64 {
			t.Helper()
			n, err := led.SweepCancelled(ctx)
			if err != nil {
				t.Fatalf("SweepCancelled: %v", err)
			}
			return n
		}

		t.Run("CancelsDeliveriesThatCameBackToPending", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name     string
				comeBack func(t *testing.T, led *ledger.Ledger, d ledger.Delivery, c ledger.Claim)
			}{
				{"AfterARetry", func(t *testing.T, led *ledger.Ledger, d ledger.Delivery, c ledger.Claim) {
					if err := led.MarkRetry(ctx, c, "421 busy", t0); err != nil {
						t.Fatalf("MarkRetry: %v", err)
					}
				}},
				{"AfterTheLeaseRanOut", func(t *testing.T, led *ledger.Ledger, _ ledger.Delivery, _ ledger.Claim) {
					if refs, err := led.ExpireLeases(ctx); err != nil || len(refs) != 1 {
						t.Fatalf("ExpireLeases = %v, %v; want a's chunk", refs, err)
					}
				}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, _, a, d, c := setup(t)
					tt.comeBack(t, led, d, c)

					if n := sweep(t, led); n != 1 {
						t.Errorf("SweepCancelled = %d, want 1", n)
					}

					got := deliveries(t, led, a.ID)["a@acme.test"]
					if got.Status != ledger.DeliveryCancelled || got.Reason != "announcement cancelled" {
						t.Errorf("a is %s (%q), want cancelled (announcement cancelled)", got.Status, got.Reason)
					}
					if diff := cmp.Diff(ledger.Counts{Recipients: 2, Cancelled: 2}, get(t, led, a.ID).Counts); diff != "" {
						t.Errorf("counts (-want +got):\n%s", diff)
					}
					if n := sweep(t, led); n != 0 {
						t.Errorf("SweepCancelled again = %d, want 0", n)
					}
				})
			}
		})

		t.Run("LeavesClaimsAndOtherAnnouncementsAlone", func(t *testing.T) {
			t.Parallel()
			led, _, cancelled, _, _ := setup(t)
			other := announce(t, led, "other", time.Time{})
			resolve(t, led, other.ID, 100)

			if n := sweep(t, led); n != 0 {
				t.Errorf("SweepCancelled = %d, want 0", n)
			}

			if got := deliveries(t, led, cancelled.ID)["a@acme.test"].Status; got != ledger.DeliverySending {
				t.Errorf("claimed delivery of the cancelled announcement is %s, want sending", got)
			}
			if diff := cmp.Diff(ledger.Counts{Recipients: 2, Pending: 2}, get(t, led, other.ID).Counts); diff != "" {
				t.Errorf("counts of the other announcement (-want +got):\n%s", diff)
			}
		})

		// MarkSent takes a stale claim's word while nobody claimed the
		// delivery since, because the message is out: also once the sweep
		// has cancelled it, or the ledger would count a message that went
		// out as cancelled.
		t.Run("SweptDeliveryRecordsAStaleSent", func(t *testing.T) {
			t.Parallel()
			led, _, a, _, c := setup(t)
			if _, err := led.ExpireLeases(ctx); err != nil {
				t.Fatalf("ExpireLeases: %v", err)
			}
			sweep(t, led)

			if err := led.MarkSent(ctx, c, "<late>"); err != nil {
				t.Fatalf("MarkSent: %v", err)
			}

			if got := deliveries(t, led, a.ID)["a@acme.test"]; got.Status != ledger.DeliverySent || got.MessageID != "<late>" || got.Reason != "" {
				t.Errorf("a is %s with message id %q and reason %q, want sent <late>", got.Status, got.MessageID, got.Reason)
			}
		})
	})
}

func TestStartDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		for _, tt := range []struct {
			name    string
			advance time.Duration // from t0, with send_at at t0+1h
			want    ledger.Status
		}{
			{"BeforeSendAt", time.Hour - time.Microsecond, ledger.Scheduled},
			{"AtSendAt", time.Hour, ledger.Resolving},
			{"AfterSendAt", 2 * time.Hour, ledger.Resolving},
		} {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				led, b := newLedger(t, database)
				a := announce(t, led, "k", t0.Add(time.Hour))
				now := b.clock.Advance(tt.advance)

				n, err := led.StartDue(ctx)
				if err != nil {
					t.Fatalf("StartDue: %v", err)
				}

				got := get(t, led, a.ID)
				if got.Status != tt.want {
					t.Errorf("status = %s, want %s", got.Status, tt.want)
				}
				wantN, wantUpdated := int64(0), t0
				if tt.want == ledger.Resolving {
					wantN, wantUpdated = 1, now
				}
				if n != wantN {
					t.Errorf("StartDue = %d, want %d", n, wantN)
				}
				if !got.UpdatedAt.Equal(wantUpdated) {
					t.Errorf("updated at %v, want %v", got.UpdatedAt, wantUpdated)
				}
			})
		}

		t.Run("OnlyScheduledIsStarted", func(t *testing.T) {
			t.Parallel()
			led, b := newLedger(t, database)
			b.license(t, "SEN-1", "a@acme.test")
			cancelled := announce(t, led, "cancelled", t0.Add(time.Minute))
			if _, err := led.Cancel(ctx, cancelled.ID); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			sending := announce(t, led, "sending", time.Time{})
			resolve(t, led, sending.ID, 100)
			b.clock.Advance(time.Hour)

			if n, err := led.StartDue(ctx); err != nil || n != 0 {
				t.Errorf("StartDue = %d, %v; want 0", n, err)
			}
			for id, want := range map[int64]ledger.Status{cancelled.ID: ledger.Cancelled, sending.ID: ledger.Sending} {
				if got := get(t, led, id).Status; got != want {
					t.Errorf("announcement %d is %s after StartDue, want %s", id, got, want)
				}
			}
		})
	})
}

func TestToResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Parallel()
		led, b := newLedger(t, database)
		b.license(t, "SEN-1", "a@acme.test")
		first := announce(t, led, "first", time.Time{})
		announce(t, led, "scheduled", t0.Add(time.Hour))
		resolved := announce(t, led, "resolved", time.Time{})
		resolve(t, led, resolved.ID, 100)
		cancelled := announce(t, led, "cancelled", time.Time{})
		if _, err := led.Cancel(ctx, cancelled.ID); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		started := announce(t, led, "started", t0.Add(time.Minute))
		b.clock.Advance(time.Minute)
		if _, err := led.StartDue(ctx); err != nil {
			t.Fatalf("StartDue: %v", err)
		}

		ids, err := led.ToResolve(ctx)
		if err != nil {
			t.Fatalf("ToResolve: %v", err)
		}

		if diff := cmp.Diff([]int64{first.ID, started.ID}, ids); diff != "" {
			t.Errorf("ToResolve (-want +got):\n%s", diff)
		}
	})
}

func TestOverdue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const grace = 5 * time.Minute

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup resolves a, b, c and d one per chunk, due at t0; b is
		// being sent, c waits for a retry at t0+10m and d was skipped.
		setup := func(t *testing.T) (*ledger.Ledger, *testBundle, ledger.Announcement) {
			t.Helper()
			led, b, a, ds := sendingLedger(t, database, 1, "a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test")
			claim(t, led, ds["b@acme.test"])
			if err := led.MarkRetry(ctx, claim(t, led, ds["c@acme.test"]), "421 busy", t0.Add(10*time.Minute)); err != nil {
				t.Fatalf("MarkRetry: %v", err)
			}
			settle(t, led, ds["d@acme.test"], ledger.DeliverySkipped)
			return led, b, a
		}

		t.Run("PendingDueForLongerThanTheGrace", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name   string
				at     time.Duration
				chunks []int
			}{
				{"WithinTheGrace", grace - time.Microsecond, nil},
				{"AtTheGrace", grace, []int{0}},
				{"RetryNotLongDue", 10*time.Minute + grace - time.Microsecond, []int{0}},
				{"RetryLongDue", 10*time.Minute + grace, []int{0, 2}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, b, a := setup(t)
					b.clock.Set(t0.Add(tt.at))

					refs, err := led.Overdue(ctx, grace)
					if err != nil {
						t.Fatalf("Overdue: %v", err)
					}

					var want []ledger.ChunkRef
					for _, c := range tt.chunks {
						want = append(want, ledger.ChunkRef{AnnouncementID: a.ID, Chunk: c})
					}
					if diff := cmp.Diff(want, refs, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("Overdue (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("OnlyOfSendingAnnouncements", func(t *testing.T) {
			t.Parallel()
			led, b, a, ds := sendingLedger(t, database, 100, "a@acme.test")
			d := ds["a@acme.test"]
			c := claim(t, led, d)
			if _, err := led.Cancel(ctx, a.ID); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			// Pending again, not yet swept.
			if err := led.MarkRetry(ctx, c, "421 busy", t0); err != nil {
				t.Fatalf("MarkRetry: %v", err)
			}
			b.clock.Advance(time.Hour)

			if refs, err := led.Overdue(ctx, grace); err != nil || len(refs) != 0 {
				t.Errorf("Overdue = %v, %v; want nothing", refs, err)
			}
		})
	})
}

func TestFinishAllDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Parallel()
		led, b := newLedger(t, database)
		b.license(t, "SEN-1", "a@acme.test", "b@acme.test")
		// What became of a and b in each announcement; none was finished.
		cases := map[string][2]ledger.DeliveryStatus{
			"settled": {ledger.DeliverySent, ledger.DeliveryFailed},
			"pending": {ledger.DeliverySent, ledger.DeliveryPending},
			"sending": {ledger.DeliverySkipped, ledger.DeliverySending},
		}
		ids := map[string]int64{}
		for key, outcome := range cases {
			a := announce(t, led, key, time.Time{})
			resolve(t, led, a.ID, 100)
			ds := deliveries(t, led, a.ID)
			for i, email := range []string{"a@acme.test", "b@acme.test"} {
				if outcome[i] != ledger.DeliveryPending {
					settle(t, led, ds[email], outcome[i])
				}
			}
			ids[key] = a.ID
		}
		ids["scheduled"] = announce(t, led, "scheduled", t0.Add(time.Hour)).ID
		now := b.clock.Advance(time.Minute)

		n, err := led.FinishAllDone(ctx)
		if err != nil {
			t.Fatalf("FinishAllDone: %v", err)
		}

		if n != 1 {
			t.Errorf("FinishAllDone = %d, want 1", n)
		}
		statuses := map[string]ledger.Status{}
		for key, id := range ids {
			statuses[key] = get(t, led, id).Status
		}
		want := map[string]ledger.Status{"settled": ledger.Done, "pending": ledger.Sending, "sending": ledger.Sending, "scheduled": ledger.Scheduled}
		if diff := cmp.Diff(want, statuses); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(at(now), get(t, led, ids["settled"]).FinishedAt); diff != "" {
			t.Errorf("finished at (-want +got):\n%s", diff)
		}
		if n, err := led.FinishAllDone(ctx); err != nil || n != 0 {
			t.Errorf("FinishAllDone again = %d, %v; want 0", n, err)
		}
	})
}

func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup leaves, among a, b and c: "done" finished at t0 (a sent,
		// b failed, c skipped); "cancelled" cancelled at t0 (all three);
		// "sending" with all three pending. The clock is then a day on.
		setup := func(t *testing.T) (*ledger.Ledger, map[string]ledger.Announcement) {
			t.Helper()
			led, b := newLedger(t, database)
			b.license(t, "SEN-1", "a@acme.test", "b@acme.test", "c@acme.test")
			all := map[string]ledger.Announcement{}
			for _, key := range []string{"done", "cancelled", "sending"} {
				a := announce(t, led, key, time.Time{})
				resolve(t, led, a.ID, 100)
				all[key] = a
			}
			ds := deliveries(t, led, all["done"].ID)
			settle(t, led, ds["a@acme.test"], ledger.DeliverySent)
			settle(t, led, ds["b@acme.test"], ledger.DeliveryFailed)
			settle(t, led, ds["c@acme.test"], ledger.DeliverySkipped)
			finish(t, led, all["done"].ID)
			if _, err := led.Cancel(ctx, all["cancelled"].ID); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			for key, a := range all {
				all[key] = get(t, led, a.ID)
			}
			b.clock.Advance(24 * time.Hour)
			return led, all
		}

		t.Run("DeletesOnlyWhatFinishedBefore", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name   string
				before time.Time
				want   int64
			}{
				{"FinishedAtBefore", t0, 0},
				{"FinishedJustBefore", t0.Add(time.Microsecond), 6},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, all := setup(t)

					n, err := led.Prune(ctx, tt.before)
					if err != nil {
						t.Fatalf("Prune: %v", err)
					}

					if n != tt.want {
						t.Errorf("Prune = %d, want %d", n, tt.want)
					}
					if got := len(deliveries(t, led, all["sending"].ID)); got != 3 {
						t.Errorf("sending announcement has %d deliveries, want 3", got)
					}
				})
			}
		})

		t.Run("KeepsTheAnnouncementAndItsCounts", func(t *testing.T) {
			t.Parallel()
			led, all := setup(t)
			if n, err := led.Prune(ctx, t0.Add(time.Hour)); err != nil || n != 6 {
				t.Fatalf("Prune = %d, %v; want 6", n, err)
			}

			for _, key := range []string{"done", "cancelled"} {
				before := all[key]
				after := get(t, led, before.ID)
				if diff := cmp.Diff(progressOf(before), progressOf(after)); diff != "" {
					t.Errorf("%s after Prune (-before +after):\n%s", key, diff)
				}
				if len(after.Archived) == 0 {
					t.Errorf("%s after Prune has no archived counts", key)
				}
				if got := deliveries(t, led, before.ID); len(got) != 0 {
					t.Errorf("%s after Prune has %d deliveries, want none", key, len(got))
				}
			}
			// Lists count pruned announcements from their archive too.
			list, err := led.List(ctx, ledger.Filter{Status: ledger.Done})
			if err != nil || len(list.Items) != 1 {
				t.Fatalf("List done = %v, %v; want one", list.Items, err)
			}
			if diff := cmp.Diff(all["done"].Counts, list.Items[0].Counts); diff != "" {
				t.Errorf("listed counts (-want +got):\n%s", diff)
			}
			// The dedupe key still prevents a second send.
			if _, created, err := led.Announce(ctx, newAnnouncement("done", time.Time{})); err != nil || created {
				t.Errorf("Announce the pruned key again: created %v, %v; want the pruned one", created, err)
			}
			if n, err := led.Prune(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
				t.Errorf("Prune again = %d, %v; want 0", n, err)
			}
		})
	})
}
