package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
)

func TestPause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("TheRelaysPauseStopsClaimsAndEndsByItself", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := sendingLedger(t, database, 1, "a@acme.test", "b@acme.test")
			paused, err := led.PauseForRelay(ctx, a.ID, "the relay refused the credentials")
			if err != nil || !paused {
				t.Fatalf("PauseForRelay = %v, %v", paused, err)
			}
			got := get(t, led, a.ID)
			if got.Status != ledger.Paused || got.PausedBy != ledger.PausedByRelay || got.PausedFrom != ledger.Sending || got.PausedReason != "the relay refused the credentials" {
				t.Errorf("paused: %s by %q from %s, %q", got.Status, got.PausedBy, got.PausedFrom, got.PausedReason)
			}
			if _, ok, err := led.Claim(ctx, ds["a@acme.test"].ID, lease); err != nil || ok {
				t.Errorf("Claim while paused = %v, %v; want not claimed", ok, err)
			}

			res, err := led.ResumeForRelay(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := ledger.Resumed{Announcements: []int64{a.ID}, Chunks: []ledger.ChunkRef{{AnnouncementID: a.ID, Chunk: 0}, {AnnouncementID: a.ID, Chunk: 1}}}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("ResumeForRelay (-want +got):\n%s", diff)
			}
			if got := get(t, led, a.ID); got.Status != ledger.Sending || got.PausedBy != "" || got.PausedReason != "" {
				t.Errorf("resumed: %s by %q, %q", got.Status, got.PausedBy, got.PausedReason)
			}
			claim(t, led, ds["a@acme.test"])
		})

		t.Run("APauseByHandStaysUntilResumedByHand", func(t *testing.T) {
			t.Parallel()
			led, _, a, _ := sendingLedger(t, database, 100, "a@acme.test")
			if _, err := led.PauseForRelay(ctx, a.ID, "relay down"); err != nil {
				t.Fatal(err)
			}
			if _, err := led.Pause(ctx, a.ID, "wrong text", "token:ops"); err != nil {
				t.Fatal(err)
			}
			if res, err := led.ResumeForRelay(ctx); err != nil || len(res.Announcements) != 0 {
				t.Errorf("ResumeForRelay over a pause by hand = %+v, %v; want nothing resumed", res, err)
			}
			got, res, err := led.Resume(ctx, a.ID)
			if err != nil || got.Status != ledger.Sending || len(res.Chunks) != 1 {
				t.Errorf("Resume = %s, %+v, %v; want sending with its chunk to enqueue", got.Status, res, err)
			}
			if _, _, err := led.Resume(ctx, a.ID); !errors.Is(err, fault.ErrConflict) {
				t.Errorf("Resume of a sending announcement = %v, want a conflict", err)
			}
		})

		t.Run("ByHandFromEachStatus", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				from    ledger.Status
				ok      bool
				fanouts int
			}{
				{ledger.Scheduled, true, 0},
				{ledger.Resolving, true, 1},
				{ledger.Sending, true, 0},
				{ledger.Done, false, 0},
				{ledger.Cancelled, false, 0},
			} {
				t.Run(string(tt.from), func(t *testing.T) {
					t.Parallel()
					led, b := newLedger(t, database)
					a := announcementIn(t, led, b, tt.from)
					paused, err := led.Pause(ctx, a.ID, "", "cli:ops")
					if !tt.ok {
						if !errors.Is(err, fault.ErrConflict) {
							t.Errorf("Pause of a %s announcement = %v, want a conflict", tt.from, err)
						}
						return
					}
					if err != nil || paused.Status != ledger.Paused || paused.PausedBy != "cli:ops" {
						t.Fatalf("Pause = %+v, %v", paused, err)
					}
					resumed, res, err := led.Resume(ctx, a.ID)
					if err != nil || resumed.Status != tt.from || len(res.Fanouts) != tt.fanouts {
						t.Errorf("Resume = %s, %+v, %v; want %s with %d fan-outs", resumed.Status, res, err, tt.from, tt.fanouts)
					}
				})
			}
		})

		t.Run("APausedAnnouncementCanBeCancelled", func(t *testing.T) {
			t.Parallel()
			led, _, a, _ := sendingLedger(t, database, 100, "a@acme.test")
			if _, err := led.Pause(ctx, a.ID, "", "token:ops"); err != nil {
				t.Fatal(err)
			}
			if got, err := led.Cancel(ctx, a.ID); err != nil || got.Status != ledger.Cancelled || got.Counts.Cancelled != 1 {
				t.Errorf("Cancel = %s %+v, %v", got.Status, got.Counts, err)
			}
		})
	})
}

func TestRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("GivesTheDeliveryBackUntried", func(t *testing.T) {
			t.Parallel()
			led, b, a, d, c := claimedLedger(t, database)
			next := b.clock.Advance(time.Second).Add(time.Second)
			if err := led.Release(ctx, c, "421 4.7.0 slow down", next); err != nil {
				t.Fatal(err)
			}
			want := ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliveryPending, NextAttemptAt: next, LastError: "421 4.7.0 slow down"}
			if diff := cmp.Diff(want, deliveries(t, led, a.ID)["a@acme.test"], ignoreIDs); diff != "" {
				t.Errorf("released (-want +got):\n%s", diff)
			}
			// Claimed again, it is the first attempt again, under a new fence.
			if again := claim(t, led, d); again.Attempt != 1 || again.Fence != 2 || again.Throttles != 0 {
				t.Errorf("the claim after the release: %+v, want attempt 1, fence 2, no throttle", again)
			}
		})

		t.Run("AThrottledOneCountsTheThrottle", func(t *testing.T) {
			t.Parallel()
			led, b, _, d, c := claimedLedger(t, database)
			for i := range 2 {
				next := b.clock.Advance(time.Second).Add(time.Second)
				if err := led.Throttled(ctx, c, "421 4.7.0 slow down", next); err != nil {
					t.Fatal(err)
				}
				b.clock.Advance(time.Second)
				c = claim(t, led, d)
				if c.Attempt != 1 || c.Throttles != i+1 {
					t.Errorf("claim after throttle %d: %+v, want attempt 1 and %d throttles", i+1, c, i+1)
				}
			}
		})

		t.Run("AStaleClaimReleasesNothing", func(t *testing.T) {
			t.Parallel()
			led, b, a, d, c := claimedLedger(t, database)
			b.clock.Advance(lease + time.Second)
			if _, err := led.ExpireLeases(ctx); err != nil {
				t.Fatal(err)
			}
			claim(t, led, d)
			if err := led.Release(ctx, c, "stale", t0); err != nil {
				t.Fatal(err)
			}
			if got := deliveries(t, led, a.ID)["a@acme.test"]; got.Status != ledger.DeliverySending || got.Attempts != 2 {
				t.Errorf("after a stale release: %s after %d attempts, want still sending after 2", got.Status, got.Attempts)
			}
		})
	})
}

func TestUnfail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		led, _, a, ds := sendingLedger(t, database, 100, "a@acme.test", "b@acme.test")
		var claims []ledger.Claim
		for _, email := range []string{"a@acme.test", "b@acme.test"} {
			c := claim(t, led, ds[email])
			if err := led.MarkFailed(ctx, c, "554 5.7.1 Message rejected: Email address is not verified"); err != nil {
				t.Fatal(err)
			}
			claims = append(claims, c)
		}
		finish(t, led, a.ID)

		paused, err := led.Unfail(ctx, claims, "the relay refuses every message", ledger.PausedByRelay)
		if err != nil || len(paused) != 1 || paused[0] != a.ID {
			t.Fatalf("Unfail = %v, %v; want announcement %d paused", paused, err, a.ID)
		}
		got := get(t, led, a.ID)
		if got.Status != ledger.Paused || got.PausedBy != ledger.PausedByRelay || got.FinishedAt != nil || got.Counts.Pending != 2 {
			t.Errorf("after Unfail: %s by %q, finished %v, counts %+v", got.Status, got.PausedBy, got.FinishedAt, got.Counts)
		}
		for email, d := range deliveries(t, led, a.ID) {
			if d.Attempts != 0 || d.LastError == "" {
				t.Errorf("%s: %d attempts, last error %q; want the attempt taken back and the reply kept", email, d.Attempts, d.LastError)
			}
		}
		// Taking back again changes nothing: the claims are no longer failed.
		if paused, err := led.Unfail(ctx, claims, "again", ledger.PausedByRelay); err != nil || len(paused) != 0 {
			t.Errorf("Unfail again = %v, %v", paused, err)
		}
	})

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// Herald's pause for a refusal that outlasted the relay's recovery
		// is left to staff: the relay working again does not end it.
		led, _, a, ds := sendingLedger(t, database, 100, "a@acme.test")
		c := claim(t, led, ds["a@acme.test"])
		if err := led.MarkFailed(ctx, c, "554 5.7.1 content rejected"); err != nil {
			t.Fatal(err)
		}
		// Another process paused it for the relay meanwhile: herald's
		// pause takes over.
		if _, err := led.PauseForRelay(ctx, a.ID, "the relay fails"); err != nil {
			t.Fatal(err)
		}
		if paused, err := led.Unfail(ctx, []ledger.Claim{c}, "the relay refuses every message", ledger.PausedByHerald); err != nil || len(paused) != 1 {
			t.Fatalf("Unfail for staff = %v, %v; want the announcement", paused, err)
		}
		if got := get(t, led, a.ID); got.PausedBy != ledger.PausedByHerald || got.PausedReason != "the relay refuses every message" {
			t.Errorf("paused by %q, %q; want herald's pause", got.PausedBy, got.PausedReason)
		}
		if res, err := led.ResumeForRelay(ctx); err != nil || len(res.Announcements) != 0 {
			t.Errorf("ResumeForRelay = %+v, %v; want herald's pause kept", res, err)
		}
		if got, _, err := led.Resume(ctx, a.ID); err != nil || got.Status != ledger.Sending {
			t.Errorf("Resume by hand = %s, %v", got.Status, err)
		}
	})
}
