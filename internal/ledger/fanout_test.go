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

		t.Run("FirstPageThenTheRestAndFinishesOnlyAfterIt", func(t *testing.T) {
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
			for _, d := range ds {
				if err := led.MarkSent(ctx, claim(t, led, d), "<"+d.Email+">"); err != nil {
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

			rest, more, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 2, 10)
			if err != nil || more {
				t.Fatalf("the rest: more %v, %v", more, err)
			}
			all := deliveries(t, led, a.ID)
			perChunk := map[int]int{}
			for _, email := range emails {
				d, ok := all[email]
				if !ok {
					t.Errorf("%s has no delivery", email)
					continue
				}
				perChunk[d.Chunk]++
				if _, sent := ds[email]; !sent && (d.Chunk < 5 || !slices.Contains(rest, d.Chunk)) {
					t.Errorf("%s is in chunk %d, not one of the rest's %v", email, d.Chunk, rest)
				}
			}
			for c, n := range perChunk {
				if n > 2 {
					t.Errorf("chunk %d holds %d deliveries, more than 2", c, n)
				}
			}
			if ids, err := led.ToResolve(ctx); err != nil || len(ids) != 0 {
				t.Errorf("ToResolve after the rest = %v, %v", ids, err)
			}
			for _, email := range emails {
				if _, sent := ds[email]; sent {
					continue
				}
				if err := led.MarkSent(ctx, claim(t, led, all[email]), "<"+email+">"); err != nil {
					t.Fatal(err)
				}
			}
			if done, err := led.FinishIfDone(ctx, a.ID); err != nil || !done {
				t.Errorf("FinishIfDone after the rest = %v, %v; want true", done, err)
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

		t.Run("AFirstPageLargerThanTheAudienceEndsTheFanout", func(t *testing.T) {
			t.Parallel()
			led, a, _ := setup(t)
			chunks, more, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 5, 30)
			if err != nil || more || len(chunks) != 5 {
				t.Fatalf("page of everyone = %v, more %v, %v; want 5 chunks and no more", chunks, more, err)
			}
			if ids, err := led.ToResolve(ctx); err != nil || len(ids) != 0 {
				t.Errorf("ToResolve = %v, %v", ids, err)
			}
		})

		t.Run("AFullFirstPageIsFollowedByAnEmptyRest", func(t *testing.T) {
			t.Parallel()
			led, a, _ := setup(t)
			if _, more, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 5, 25); err != nil || !more {
				t.Fatalf("full first page: more %v, %v; want more", more, err)
			}
			chunks, more, err := led.ResolvePage(ctx, a.ID, jiraAudience(true), 5, 25)
			if err != nil || more || len(chunks) != 0 {
				t.Errorf("the rest = %v, more %v, %v; want nothing", chunks, more, err)
			}
			if got := get(t, led, a.ID); got.Counts.Pending != 25 || got.Status != ledger.Sending {
				t.Errorf("announcement %s with %d pending, want sending with 25", got.Status, got.Counts.Pending)
			}
		})
	})
}
