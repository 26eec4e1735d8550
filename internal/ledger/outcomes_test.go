package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
)

func TestClaimAllAndGroupedOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		emails := make([]string, 40)
		for i := range emails {
			emails[i] = fmt.Sprintf("p%02d@acme.test", i)
		}
		setup := func(t *testing.T) (*ledger.Ledger, ledger.Announcement, []int64) {
			t.Helper()
			led, _, a, ds := sendingLedger(t, database, 100, emails...)
			ids := make([]int64, 0, len(ds))
			for _, e := range emails {
				ids = append(ids, ds[e].ID)
			}
			return led, a, ids
		}

		t.Run("ClaimsOnlyWhatIsPending", func(t *testing.T) {
			t.Parallel()
			led, _, ids := setup(t)
			first, err := led.ClaimAll(ctx, ids[:10], lease)
			if err != nil || len(first) != 10 {
				t.Fatalf("ClaimAll = %d claims, %v; want 10", len(first), err)
			}
			for id, c := range first {
				if c.Delivery != id || c.Attempt != 1 || c.Fence != 1 {
					t.Errorf("claim of %d = %+v, want attempt 1 of fence 1", id, c)
				}
			}
			// Overlapping: the first ten are taken already.
			second, err := led.ClaimAll(ctx, ids[5:20], lease)
			if err != nil || len(second) != 10 {
				t.Fatalf("ClaimAll again = %d claims, %v; want the 10 not taken", len(second), err)
			}
			for _, id := range ids[5:10] {
				if _, ok := second[id]; ok {
					t.Errorf("delivery %d claimed twice", id)
				}
			}
		})

		t.Run("ClaimsNothingOfACancelledAnnouncement", func(t *testing.T) {
			t.Parallel()
			led, a, ids := setup(t)
			if _, err := led.Cancel(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			got, err := led.ClaimAll(ctx, ids, lease)
			if err != nil || len(got) != 0 {
				t.Fatalf("ClaimAll after a cancel = %d claims, %v; want none", len(got), err)
			}
		})

		t.Run("GroupsSentOutcomes", func(t *testing.T) {
			t.Parallel()
			led, a, ids := setup(t)
			claims, err := led.ClaimAll(ctx, ids, lease)
			if err != nil {
				t.Fatal(err)
			}
			list := make([]ledger.Claim, 0, len(claims))
			for _, c := range claims {
				list = append(list, c)
			}
			if err := led.ExtendLeases(ctx, list, 2*lease); err != nil {
				t.Fatalf("ExtendLeases: %v", err)
			}
			out := led.NewOutcomes(16)
			var wg sync.WaitGroup
			errs := make(chan error, len(list))
			for _, c := range list {
				wg.Go(func() { errs <- out.Sent(ctx, c, fmt.Sprintf("%d.%d@vendor.test", c.Delivery, a.ID)) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("Sent: %v", err)
				}
			}
			got, err := led.Get(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Counts.Sent != len(emails) || got.Counts.Sending != 0 {
				t.Fatalf("counts %+v, want all %d sent", got.Counts, len(emails))
			}
			page, err := led.Deliveries(ctx, a.ID, ledger.DeliveryFilter{Email: emails[3]})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("Deliveries = %v, %v", page.Items, err)
			}
			d := page.Items[0]
			if want := fmt.Sprintf("%d.%d@vendor.test", d.ID, a.ID); d.MessageID != want || d.SentAt == nil {
				t.Errorf("delivery %+v, want message ID %s and a time sent", d, want)
			}
		})

		t.Run("GiveBackCancelsWhatACancelReached", func(t *testing.T) {
			t.Parallel()
			led, a, ids := setup(t)
			claims, err := led.ClaimAll(ctx, ids[:10], lease)
			if err != nil {
				t.Fatal(err)
			}
			list := make([]ledger.Claim, 0, len(claims))
			for _, c := range claims {
				list = append(list, c)
			}
			if err := led.GiveBack(ctx, list[:5]); err != nil {
				t.Fatal(err)
			}
			got, err := led.Get(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Counts.Pending != len(emails)-5 || got.Counts.Sending != 5 {
				t.Fatalf("after giving back 5 of 10 claims: counts %+v", got.Counts)
			}
			if _, err := led.Cancel(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if err := led.GiveBack(ctx, list[5:]); err != nil {
				t.Fatal(err)
			}
			if got, err = led.Get(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			if got.Counts.Cancelled != len(emails) || got.Counts.Sending+got.Counts.Pending != 0 {
				t.Errorf("claims given back after a cancel: counts %+v, want all cancelled", got.Counts)
			}
			page, err := led.Deliveries(ctx, a.ID, ledger.DeliveryFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page.Items {
				if d.Attempts != 0 {
					t.Errorf("%s: %d attempts counted for a message never tried", d.Email, d.Attempts)
				}
			}
		})

		t.Run("AStaleClaimDoesNotOverwriteANewOne", func(t *testing.T) {
			t.Parallel()
			led, a, ids := setup(t)
			claims, err := led.ClaimAll(ctx, ids[:1], lease)
			if err != nil {
				t.Fatal(err)
			}
			stale := claims[ids[0]]
			stale.Fence++ // as if the lease ran out and another worker claimed it
			if err := led.NewOutcomes(4).Sent(ctx, stale, "stale@vendor.test"); err != nil {
				t.Fatal(err)
			}
			got, err := led.Get(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Counts.Sent != 0 || got.Counts.Sending != 1 {
				t.Errorf("counts %+v, want the delivery still sending", got.Counts)
			}
		})
	})
}
