package ledger_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
)

func TestResolvePage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup announces a release to 25 technical contacts of one license.
		setup := func(t *testing.T) (*ledger.Ledger, ledger.Announcement, []string) {
			led, b := newLedger(t, database)
			var emails []string
			for i := range 25 {
				emails = append(emails, fmt.Sprintf("p%02d@acme.test", i))
			}
			b.license(t, "SEN-1", emails...)
			return led, announce(t, led, "k", time.Time{}), emails
		}

		t.Run("PagesInAddressOrderAndFinishesOnlyAfterTheLast", func(t *testing.T) {
			t.Parallel()
			led, a, emails := setup(t)
			chunks, more, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 2, 10)
			if err != nil || !more {
				t.Fatalf("first page: more %v, %v", more, err)
			}
			if diff := slices.Compare([]int{0, 1, 2, 3, 4}, chunks); diff != 0 {
				t.Errorf("first page's chunks = %v", chunks)
			}
			if got := get(t, led, a.ID).Status; got != ledger.Sending {
				t.Errorf("status after the first page = %s, want sending", got)
			}
			// The first page sent in full does not finish the announcement,
			// and the reconciler knows its fan-out is to carry on.
			ds := deliveries(t, led, a.ID)
			if len(ds) != 10 {
				t.Fatalf("%d deliveries after a page of 10", len(ds))
			}
			for _, email := range emails[:10] {
				if err := led.MarkSent(ctx, claim(t, led, ds[email]), "<"+email+">"); err != nil {
					t.Fatal(err)
				}
			}
			if done, err := led.FinishIfDone(ctx, a.ID); err != nil || done {
				t.Errorf("FinishIfDone between pages = %v, %v; want false", done, err)
			}
			if n, err := led.FinishAllDone(ctx); err != nil || n != 0 {
				t.Errorf("FinishAllDone between pages = %d, %v; want 0", n, err)
			}
			if ids, err := led.ToResolve(ctx); err != nil || !slices.Equal(ids, []int64{a.ID}) {
				t.Errorf("ToResolve between pages = %v, %v; want [%d]", ids, err, a.ID)
			}

			var rest []int
			for more {
				var page []int
				if page, more, err = led.ResolvePage(ctx, a.ID, jiraAudience(true), 2, 10); err != nil {
					t.Fatal(err)
				}
				rest = append(rest, page...)
			}
			if diff := slices.Compare([]int{5, 6, 7, 8, 9, 10, 11, 12}, rest); diff != 0 {
				t.Errorf("later pages' chunks = %v", rest)
			}
			ds = deliveries(t, led, a.ID)
			for i, email := range emails {
				if d, ok := ds[email]; !ok || d.Chunk != i/2 {
					t.Errorf("%s: delivery %+v (found %v), want chunk %d", email, d, ok, i/2)
				}
			}
			if ids, err := led.ToResolve(ctx); err != nil || len(ids) != 0 {
				t.Errorf("ToResolve after the last page = %v, %v", ids, err)
			}
			for _, email := range emails[10:] {
				if err := led.MarkSent(ctx, claim(t, led, ds[email]), "<"+email+">"); err != nil {
					t.Fatal(err)
				}
			}
			if done, err := led.FinishIfDone(ctx, a.ID); err != nil || !done {
				t.Errorf("FinishIfDone after the last page = %v, %v; want true", done, err)
			}
		})

		t.Run("CancelStopsTheFanout", func(t *testing.T) {
			t.Parallel()
			led, a, _ := setup(t)
			if _, _, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 2, 10); err != nil {
				t.Fatal(err)
			}
			if _, err := led.Cancel(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
			chunks, more, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 2, 10)
			if err != nil || more || len(chunks) != 0 {
				t.Errorf("page after cancel = %v, more %v, %v; want nothing", chunks, more, err)
			}
			if n := len(deliveries(t, led, a.ID)); n != 10 {
				t.Errorf("%d deliveries, want the first page's 10", n)
			}
			if ids, err := led.ToResolve(ctx); err != nil || len(ids) != 0 {
				t.Errorf("ToResolve after cancel = %v, %v", ids, err)
			}
		})

		t.Run("AFullLastPageIsFollowedByAnEmptyOne", func(t *testing.T) {
			t.Parallel()
			led, a, _ := setup(t)
			if _, more, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 5, 25); err != nil || !more {
				t.Fatalf("full page: more %v, %v", more, err)
			}
			chunks, more, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 5, 25)
			if err != nil || more || len(chunks) != 0 {
				t.Errorf("page after the last = %v, more %v, %v; want nothing more", chunks, more, err)
			}
			if got := get(t, led, a.ID); got.Counts.Pending != 25 || got.Status != ledger.Sending {
				t.Errorf("announcement = %s with %d pending, want sending with 25", got.Status, got.Counts.Pending)
			}
		})
	})
}
