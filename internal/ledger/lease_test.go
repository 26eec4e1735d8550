package ledger_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
)

// outcome is one way a worker ends its claim.
type outcome struct {
	name   string
	settle func(ctx context.Context, led *ledger.Ledger, c ledger.Claim) error
}

var outcomes = []outcome{
	{"Sent", func(ctx context.Context, led *ledger.Ledger, c ledger.Claim) error {
		return led.MarkSent(ctx, c, "<stale>")
	}},
	{"Failed", func(ctx context.Context, led *ledger.Ledger, c ledger.Claim) error {
		return led.MarkFailed(ctx, c, "stale: 550")
	}},
	{"Retry", func(ctx context.Context, led *ledger.Ledger, c ledger.Claim) error {
		return led.MarkRetry(ctx, c, "stale: 421", t0.Add(time.Hour))
	}},
	{"Skipped", func(ctx context.Context, led *ledger.Ledger, c ledger.Claim) error {
		return led.MarkSkipped(ctx, c, "stale: gone")
	}},
}

func TestLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup resolves a and b into chunk 0 and c into chunk 1, and
		// claims a at t0 for lease.
		setup := func(t *testing.T) (*ledger.Ledger, *testBundle, ledger.Announcement, map[string]ledger.Delivery) {
			t.Helper()
			led, b, a, ds := sendingLedger(t, database, 2, "a@acme.test", "b@acme.test", "c@acme.test")
			if c := claim(t, led, ds["a@acme.test"]).Attempt; c != 1 {
				t.Fatalf("first claim is attempt %d", c)
			}
			return led, b, a, ds
		}
		expire := func(t *testing.T, led *ledger.Ledger) []ledger.ChunkRef {
			t.Helper()
			refs, err := led.ExpireLeases(ctx)
			if err != nil {
				t.Fatalf("ExpireLeases: %v", err)
			}
			slices.SortFunc(refs, func(x, y ledger.ChunkRef) int { return x.Chunk - y.Chunk })
			return refs
		}
		// stale lets the claim on a (attempt 1) run out and hands a to a
		// second worker (attempt 2) at t0+lease+1s.
		stale := func(t *testing.T, led *ledger.Ledger, b *testBundle, d ledger.Delivery) {
			t.Helper()
			b.clock.Advance(lease + time.Second)
			if refs := expire(t, led); len(refs) != 1 {
				t.Fatalf("ExpireLeases = %v, want a's chunk", refs)
			}
			if c := claim(t, led, d).Attempt; c != 2 {
				t.Fatalf("second claim is attempt %d, want 2", c)
			}
		}

		t.Run("ExpiresOnlyAfterTheLease", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name    string
				after   time.Duration
				expired bool
			}{
				{"Before", lease - time.Second, false},
				{"AtTheEnd", lease, false},
				{"JustAfter", lease + time.Microsecond, true},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, b, a, _ := setup(t)
					b.clock.Advance(tt.after)

					refs := expire(t, led)

					var wantRefs []ledger.ChunkRef
					wantStatus := ledger.DeliverySending
					if tt.expired {
						wantRefs = []ledger.ChunkRef{{AnnouncementID: a.ID, Chunk: 0}}
						wantStatus = ledger.DeliveryPending
					}
					if diff := cmp.Diff(wantRefs, refs, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("ExpireLeases (-want +got):\n%s", diff)
					}
					if got := deliveries(t, led, a.ID)["a@acme.test"].Status; got != wantStatus {
						t.Errorf("a is %s, want %s", got, wantStatus)
					}
				})
			}
		})

		t.Run("ExpiredClaimIsDueNowAndKeepsItsAttempt", func(t *testing.T) {
			t.Parallel()
			led, b, a, ds := setup(t)
			claim(t, led, ds["b@acme.test"])
			claim(t, led, ds["c@acme.test"])
			now := b.clock.Advance(2 * lease)

			refs := expire(t, led)

			// One ref per chunk, however many of its claims ran out.
			wantRefs := []ledger.ChunkRef{{AnnouncementID: a.ID, Chunk: 0}, {AnnouncementID: a.ID, Chunk: 1}}
			if diff := cmp.Diff(wantRefs, refs); diff != "" {
				t.Errorf("ExpireLeases (-want +got):\n%s", diff)
			}
			want := ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliveryPending, Attempts: 1, NextAttemptAt: now}
			if diff := cmp.Diff(want, deliveries(t, led, a.ID)["a@acme.test"], ignoreIDs); diff != "" {
				t.Errorf("delivery (-want +got):\n%s", diff)
			}
			due, err := led.Due(ctx, a.ID, 0, 10)
			if err != nil {
				t.Fatalf("Due: %v", err)
			}
			if diff := cmp.Diff([]string{"a@acme.test", "b@acme.test"}, emailsOf(due)); diff != "" {
				t.Errorf("Due (-want +got):\n%s", diff)
			}
			if refs := expire(t, led); len(refs) != 0 {
				t.Errorf("ExpireLeases again = %v, want nothing", refs)
			}
			if c := claim(t, led, ds["a@acme.test"]).Attempt; c != 2 {
				t.Errorf("claim after expiry is attempt %d, want 2", c)
			}
		})

		t.Run("ExtendLeaseKeepsTheClaim", func(t *testing.T) {
			t.Parallel()
			led, b, a, ds := setup(t)
			b.clock.Advance(50 * time.Second)
			if err := led.ExtendLease(ctx, fenced(ds["a@acme.test"], 1), lease); err != nil {
				t.Fatalf("ExtendLease: %v", err)
			}

			b.clock.Set(t0.Add(50*time.Second + lease)) // the new end
			if refs := expire(t, led); len(refs) != 0 {
				t.Errorf("ExpireLeases within the extension = %v, want nothing", refs)
			}
			if got := deliveries(t, led, a.ID)["a@acme.test"].Status; got != ledger.DeliverySending {
				t.Errorf("a is %s within the extension, want sending", got)
			}

			b.clock.Advance(time.Microsecond)
			if refs := expire(t, led); len(refs) != 1 {
				t.Errorf("ExpireLeases after the extension = %v, want a's chunk", refs)
			}
		})

		t.Run("StaleClaimCannotExtendTheNewOne", func(t *testing.T) {
			t.Parallel()
			led, b, a, ds := setup(t)
			d := ds["a@acme.test"]
			stale(t, led, b, d) // attempt 2's lease ends at t0+2*lease+1s

			if err := led.ExtendLease(ctx, fenced(d, 1), time.Hour); err != nil {
				t.Fatalf("ExtendLease: %v", err)
			}

			b.clock.Set(t0.Add(2*lease + 2*time.Second))
			if refs := expire(t, led); len(refs) != 1 {
				t.Errorf("ExpireLeases = %v, want the second claim to run out on time", refs)
			}
			if got := deliveries(t, led, a.ID)["a@acme.test"]; got.Status != ledger.DeliveryPending || got.Attempts != 2 {
				t.Errorf("a is %s after %d attempts, want pending after 2", got.Status, got.Attempts)
			}
		})

		t.Run("StaleClaimCannotSettleOverTheNewOne", func(t *testing.T) {
			t.Parallel()
			for _, o := range outcomes {
				t.Run(o.name, func(t *testing.T) {
					t.Parallel()
					led, b, a, ds := setup(t)
					d := ds["a@acme.test"]
					stale(t, led, b, d)

					if err := o.settle(ctx, led, fenced(d, 1)); err != nil {
						t.Fatalf("stale outcome: %v", err)
					}

					want := ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliverySending, Attempts: 2, NextAttemptAt: t0.Add(lease + time.Second)}
					if diff := cmp.Diff(want, deliveries(t, led, a.ID)["a@acme.test"], ignoreIDs); diff != "" {
						t.Errorf("after the stale outcome (-want +got):\n%s", diff)
					}
					// The new owner still records its own.
					if err := led.MarkSent(ctx, fenced(d, 2), "<new>"); err != nil {
						t.Fatalf("MarkSent: %v", err)
					}
					if got := deliveries(t, led, a.ID)["a@acme.test"]; got.Status != ledger.DeliverySent || got.MessageID != "<new>" {
						t.Errorf("after the new owner's MarkSent: %s %q, want sent <new>", got.Status, got.MessageID)
					}
				})
			}
		})

		// A claim whose lease ran out, with nobody holding the delivery
		// since: a sent message is recorded (it is out and must not go
		// again); any other outcome is dropped and the delivery tried again.
		t.Run("StaleClaimWhileNobodyHoldsTheDelivery", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name    string
				outcome outcome
				want    ledger.DeliveryStatus
			}{
				{"SentIsRecordedTheMessageIsOut", outcomes[0], ledger.DeliverySent},
				{"FailedIsDroppedTheDeliveryIsTriedAgain", outcomes[1], ledger.DeliveryPending},
				{"RetryIsDroppedTheDeliveryIsDueNow", outcomes[2], ledger.DeliveryPending},
				{"SkippedIsDroppedTheDeliveryIsTriedAgain", outcomes[3], ledger.DeliveryPending},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, b, a, ds := setup(t)
					d := ds["a@acme.test"]
					now := b.clock.Advance(lease + time.Second)
					expire(t, led)

					if err := tt.outcome.settle(ctx, led, fenced(d, 1)); err != nil {
						t.Fatalf("stale outcome: %v", err)
					}

					want := ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliveryPending, Attempts: 1, NextAttemptAt: now}
					if tt.want == ledger.DeliverySent {
						want.Status, want.MessageID, want.SentAt = ledger.DeliverySent, "<stale>", at(now)
					}
					if diff := cmp.Diff(want, deliveries(t, led, a.ID)["a@acme.test"], ignoreIDs); diff != "" {
						t.Errorf("after the stale outcome (-want +got):\n%s", diff)
					}
					_, claimed, err := led.Claim(ctx, d.ID, lease)
					if err != nil {
						t.Fatalf("Claim: %v", err)
					}
					if wantClaimed := tt.want == ledger.DeliveryPending; claimed != wantClaimed {
						t.Errorf("Claim afterwards = %v, want %v", claimed, wantClaimed)
					}
				})
			}
		})
	})
}
