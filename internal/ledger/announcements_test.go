package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
)

// settle claims d and records what became of it: sent, failed or skipped.
func settle(t *testing.T, led *ledger.Ledger, d ledger.Delivery, status ledger.DeliveryStatus) {
	t.Helper()
	ctx := context.Background()
	c := claim(t, led, d)
	var err error
	switch status {
	case ledger.DeliverySent:
		err = led.MarkSent(ctx, c, "<"+d.Email+">")
	case ledger.DeliveryFailed:
		err = led.MarkFailed(ctx, c, "550 no such user")
	case ledger.DeliverySkipped:
		err = led.MarkSkipped(ctx, c, "no longer a contact")
	case ledger.DeliverySending:
	default:
		t.Fatalf("settle cannot make a delivery %s", status)
	}
	if err != nil {
		t.Fatalf("settle %s as %s: %v", d.Email, status, err)
	}
}

// finish marks an announcement done and fails the test if it was not.
func finish(t *testing.T, led *ledger.Ledger, id int64) {
	t.Helper()
	if done, err := led.FinishIfDone(context.Background(), id); err != nil || !done {
		t.Fatalf("FinishIfDone = %v, %v; want done", done, err)
	}
}

// announcementIn makes an announcement of a license holding a in status:
// scheduled, resolving, sending (a pending), done (a sent) or cancelled.
func announcementIn(t *testing.T, led *ledger.Ledger, b *testBundle, status ledger.Status) ledger.Announcement {
	t.Helper()
	if status == ledger.Scheduled {
		return announce(t, led, "k", t0.Add(time.Hour))
	}
	if status == ledger.Resolving {
		return announce(t, led, "k", time.Time{})
	}
	a, ds := b.sending(t, led, 100, "a@acme.test")
	switch status {
	case ledger.Sending:
	case ledger.Done:
		settle(t, led, ds["a@acme.test"], ledger.DeliverySent)
		finish(t, led, a.ID)
	case ledger.Cancelled:
		if _, err := led.Cancel(context.Background(), a.ID); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
	default:
		t.Fatalf("no announcement can be %s", status)
	}
	return get(t, led, a.ID)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("StopsWhatIsNotFinished", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				from       ledger.Status
				wantCounts ledger.Counts
			}{
				{ledger.Scheduled, ledger.Counts{}},
				{ledger.Resolving, ledger.Counts{}},
				{ledger.Sending, ledger.Counts{Recipients: 1, Cancelled: 1}},
			} {
				t.Run("From"+string(tt.from), func(t *testing.T) {
					t.Parallel()
					led, b := newLedger(t, database)
					a := announcementIn(t, led, b, tt.from)
					now := b.clock.Advance(time.Minute)

					got, err := led.Cancel(ctx, a.ID)
					if err != nil {
						t.Fatalf("Cancel: %v", err)
					}

					want := progress{Status: ledger.Cancelled, Finished: at(now), Counts: tt.wantCounts}
					if diff := cmp.Diff(want, progressOf(got)); diff != "" {
						t.Errorf("Cancel (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(got, get(t, led, a.ID)); diff != "" {
						t.Errorf("Get (-cancelled +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("CancelsPendingDeliveriesOnly", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := sendingLedger(t, database, 100, "a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test")
			settle(t, led, ds["a@acme.test"], ledger.DeliverySending)
			settle(t, led, ds["b@acme.test"], ledger.DeliverySent)
			settle(t, led, ds["c@acme.test"], ledger.DeliveryFailed)

			if _, err := led.Cancel(ctx, a.ID); err != nil {
				t.Fatalf("Cancel: %v", err)
			}

			got := deliveries(t, led, a.ID)
			statuses := map[string]ledger.DeliveryStatus{}
			for email, d := range got {
				statuses[email] = d.Status
			}
			want := map[string]ledger.DeliveryStatus{
				"a@acme.test": ledger.DeliverySending,
				"b@acme.test": ledger.DeliverySent,
				"c@acme.test": ledger.DeliveryFailed,
				"d@acme.test": ledger.DeliveryCancelled,
			}
			if diff := cmp.Diff(want, statuses); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if reason := got["d@acme.test"].Reason; reason != "announcement cancelled" {
				t.Errorf("reason = %q, want announcement cancelled", reason)
			}
		})

		t.Run("ClaimedDeliveryStillRecordsItsOutcome", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := sendingLedger(t, database, 100, "a@acme.test", "b@acme.test")
			d := ds["a@acme.test"]
			c := claim(t, led, d)
			cancelled, err := led.Cancel(ctx, a.ID)
			if err != nil {
				t.Fatalf("Cancel: %v", err)
			}

			if err := led.MarkSent(ctx, c, "<a>"); err != nil {
				t.Fatalf("MarkSent: %v", err)
			}

			if done, err := led.FinishIfDone(ctx, a.ID); err != nil || done {
				t.Errorf("FinishIfDone = %v, %v; a cancelled announcement is not done", done, err)
			}
			want := progress{Status: ledger.Cancelled, Finished: cancelled.FinishedAt, Counts: ledger.Counts{Recipients: 2, Sent: 1, Cancelled: 1}}
			if diff := cmp.Diff(want, progressOf(get(t, led, a.ID))); diff != "" {
				t.Errorf("announcement (-want +got):\n%s", diff)
			}
		})

		t.Run("FinishedIsAConflict", func(t *testing.T) {
			t.Parallel()
			for _, from := range []ledger.Status{ledger.Done, ledger.Cancelled} {
				t.Run("From"+string(from), func(t *testing.T) {
					t.Parallel()
					led, b := newLedger(t, database)
					a := announcementIn(t, led, b, from)
					b.clock.Advance(time.Minute)

					if _, err := led.Cancel(ctx, a.ID); !errors.Is(err, fault.ErrConflict) {
						t.Fatalf("Cancel: %v, want a conflict", err)
					}

					if diff := cmp.Diff(progressOf(a), progressOf(get(t, led, a.ID))); diff != "" {
						t.Errorf("announcement (-before +after):\n%s", diff)
					}
				})
			}
		})

		t.Run("UnknownIsNotFound", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			if _, err := led.Cancel(ctx, 404); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Cancel: %v, want not found", err)
			}
		})
	})
}

func TestFinishIfDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("OnlyWhenNothingIsPendingOrSending", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name string
				a, b ledger.DeliveryStatus // what becomes of each; pending stays
				done bool
			}{
				{"PendingLeft", ledger.DeliverySent, ledger.DeliveryPending, false},
				{"SendingLeft", ledger.DeliverySent, ledger.DeliverySending, false},
				{"SentAndFailed", ledger.DeliverySent, ledger.DeliveryFailed, true},
				{"SkippedAndFailed", ledger.DeliverySkipped, ledger.DeliveryFailed, true},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, b, a, ds := sendingLedger(t, database, 100, "a@acme.test", "b@acme.test")
					for email, status := range map[string]ledger.DeliveryStatus{"a@acme.test": tt.a, "b@acme.test": tt.b} {
						if status != ledger.DeliveryPending {
							settle(t, led, ds[email], status)
						}
					}
					now := b.clock.Advance(time.Minute)

					done, err := led.FinishIfDone(ctx, a.ID)
					if err != nil {
						t.Fatalf("FinishIfDone: %v", err)
					}

					if done != tt.done {
						t.Errorf("FinishIfDone = %v, want %v", done, tt.done)
					}
					got := get(t, led, a.ID)
					want := progress{Status: ledger.Sending, Counts: got.Counts}
					if tt.done {
						want = progress{Status: ledger.Done, Finished: at(now), Counts: got.Counts}
					}
					if diff := cmp.Diff(want, progressOf(got)); diff != "" {
						t.Errorf("announcement (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("OnlySendingIsFinished", func(t *testing.T) {
			t.Parallel()
			for _, from := range []ledger.Status{ledger.Scheduled, ledger.Resolving, ledger.Done, ledger.Cancelled} {
				t.Run("From"+string(from), func(t *testing.T) {
					t.Parallel()
					led, b := newLedger(t, database)
					a := announcementIn(t, led, b, from)
					b.clock.Advance(time.Minute)

					if done, err := led.FinishIfDone(ctx, a.ID); err != nil || done {
						t.Errorf("FinishIfDone = %v, %v; want not done", done, err)
					}

					if diff := cmp.Diff(progressOf(a), progressOf(get(t, led, a.ID))); diff != "" {
						t.Errorf("announcement (-before +after):\n%s", diff)
					}
				})
			}
		})
	})
}

func TestRetryFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup resolves a and b into chunk 0 and c and d into chunk 1,
		// leaves a sent, b failed after two attempts, c skipped and d
		// failed, finishes the announcement at t0 and moves the clock on
		// by an hour.
		setup := func(t *testing.T) (*ledger.Ledger, *testBundle, ledger.Announcement) {
			t.Helper()
			led, b, a, ds := sendingLedger(t, database, 2, "a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test")
			settle(t, led, ds["a@acme.test"], ledger.DeliverySent)
			if err := led.MarkRetry(ctx, claim(t, led, ds["b@acme.test"]), "421 busy", t0); err != nil {
				t.Fatalf("MarkRetry: %v", err)
			}
			settle(t, led, ds["b@acme.test"], ledger.DeliveryFailed)
			settle(t, led, ds["c@acme.test"], ledger.DeliverySkipped)
			settle(t, led, ds["d@acme.test"], ledger.DeliveryFailed)
			finish(t, led, a.ID)
			b.clock.Advance(time.Hour)
			return led, b, get(t, led, a.ID)
		}

		t.Run("MakesFailedPendingDueNowAndReopens", func(t *testing.T) {
			t.Parallel()
			led, b, a := setup(t)
			now := b.clock.Now()

			got, chunks, err := led.RetryFailed(ctx, a.ID)
			if err != nil {
				t.Fatalf("RetryFailed: %v", err)
			}

			if diff := cmp.Diff([]int{0, 1}, chunks); diff != "" {
				t.Errorf("chunks (-want +got):\n%s", diff)
			}
			want := progress{Status: ledger.Sending, Counts: ledger.Counts{Recipients: 4, Pending: 2, Sent: 1, Skipped: 1}}
			if diff := cmp.Diff(want, progressOf(got)); diff != "" {
				t.Errorf("RetryFailed (-want +got):\n%s", diff)
			}
			// The last reply stays until the message is sent.
			ds := deliveries(t, led, a.ID)
			for _, email := range []string{"b@acme.test", "d@acme.test"} {
				want := ledger.Delivery{Email: email, Chunk: ds[email].Chunk, Status: ledger.DeliveryPending, NextAttemptAt: now, LastError: "550 no such user"}
				if diff := cmp.Diff(want, ds[email], ignoreIDs); diff != "" {
					t.Errorf("%s (-want +got):\n%s", email, diff)
				}
			}
			if ds["a@acme.test"].Status != ledger.DeliverySent || ds["c@acme.test"].Status != ledger.DeliverySkipped {
				t.Errorf("a is %s and c %s, want them left sent and skipped", ds["a@acme.test"].Status, ds["c@acme.test"].Status)
			}
		})

		t.Run("SuppressedRecipientsAreSkippedNotRetried", func(t *testing.T) {
			t.Parallel()
			// b (chunk 0, two attempts) and d (chunk 1, one attempt)
			// failed with "550 no such user"; a was sent and c skipped.
			// Skipped, they keep the attempts they had.
			skippedSuppressed := func(email string, chunk, attempts int) ledger.Delivery {
				return ledger.Delivery{Email: email, Chunk: chunk, Status: ledger.DeliverySkipped, Reason: "suppressed",
					Attempts: attempts, NextAttemptAt: t0, LastError: "550 no such user"}
			}
			retried := func(email string, chunk int) ledger.Delivery {
				return ledger.Delivery{Email: email, Chunk: chunk, Status: ledger.DeliveryPending,
					NextAttemptAt: t0.Add(time.Hour), LastError: "550 no such user"}
			}
			for _, tt := range []struct {
				name           string
				suppress, lift []string
				wantChunks     []int
				want           progress
				wantB, wantD   ledger.Delivery
			}{
				{
					name: "OneSuppressed", suppress: []string{"d@acme.test"},
					wantChunks: []int{0},
					want:       progress{Status: ledger.Sending, Counts: ledger.Counts{Recipients: 4, Pending: 1, Sent: 1, Skipped: 2}},
					wantB:      retried("b@acme.test", 0), wantD: skippedSuppressed("d@acme.test", 1, 1),
				},
				{
					// A relay that refused everyone: nothing is retried
					// until the suppressions are lifted, and the
					// announcement stays done, finished when it finished.
					name: "AllSuppressed", suppress: []string{"b@acme.test", "d@acme.test"},
					want:  progress{Status: ledger.Done, Finished: at(t0), Counts: ledger.Counts{Recipients: 4, Sent: 1, Skipped: 3}},
					wantB: skippedSuppressed("b@acme.test", 0, 2), wantD: skippedSuppressed("d@acme.test", 1, 1),
				},
				{
					name: "SuppressionLifted", suppress: []string{"b@acme.test", "d@acme.test"}, lift: []string{"b@acme.test", "d@acme.test"},
					wantChunks: []int{0, 1},
					want:       progress{Status: ledger.Sending, Counts: ledger.Counts{Recipients: 4, Pending: 2, Sent: 1, Skipped: 1}},
					wantB:      retried("b@acme.test", 0), wantD: retried("d@acme.test", 1),
				},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, b, a := setup(t)
					for _, email := range tt.suppress {
						if err := b.contacts.Suppress(ctx, email, contacts.Suppression{Reply: "550 no such user", Code: 550}); err != nil {
							t.Fatalf("Suppress: %v", err)
						}
					}
					for _, email := range tt.lift {
						if _, err := b.contacts.Unsuppress(ctx, email, contacts.Actor{Via: contacts.ViaCLI, Name: "test"}); err != nil {
							t.Fatalf("Unsuppress: %v", err)
						}
					}

					got, chunks, err := led.RetryFailed(ctx, a.ID)
					if err != nil {
						t.Fatalf("RetryFailed: %v", err)
					}

					if diff := cmp.Diff(tt.wantChunks, chunks); diff != "" {
						t.Errorf("chunks (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(tt.want, progressOf(got)); diff != "" {
						t.Errorf("RetryFailed (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(tt.want, progressOf(get(t, led, a.ID))); diff != "" {
						t.Errorf("announcement read again (-want +got):\n%s", diff)
					}
					ds := deliveries(t, led, a.ID)
					for _, want := range []ledger.Delivery{tt.wantB, tt.wantD} {
						if diff := cmp.Diff(want, ds[want.Email], ignoreIDs); diff != "" {
							t.Errorf("%s (-want +got):\n%s", want.Email, diff)
						}
					}
				})
			}
		})

		t.Run("NothingFailedChangesNothing", func(t *testing.T) {
			t.Parallel()
			led, b := newLedger(t, database)
			a := announcementIn(t, led, b, ledger.Done)
			before := progressOf(get(t, led, a.ID))
			b.clock.Advance(time.Hour)

			got, chunks, err := led.RetryFailed(ctx, a.ID)
			if err != nil {
				t.Fatalf("RetryFailed: %v", err)
			}

			if len(chunks) != 0 {
				t.Errorf("chunks = %v, want none", chunks)
			}
			// Still done, finished when it finished: the retention period
			// does not start over.
			if diff := cmp.Diff(before, progressOf(got)); diff != "" {
				t.Errorf("RetryFailed (-before +got):\n%s", diff)
			}
		})

		t.Run("WhileSendingRetriesWhatFailedSoFar", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := sendingLedger(t, database, 1, "a@acme.test", "b@acme.test")
			settle(t, led, ds["b@acme.test"], ledger.DeliveryFailed)

			got, chunks, err := led.RetryFailed(ctx, a.ID)
			if err != nil {
				t.Fatalf("RetryFailed: %v", err)
			}

			if diff := cmp.Diff([]int{1}, chunks); diff != "" {
				t.Errorf("chunks (-want +got):\n%s", diff)
			}
			want := progress{Status: ledger.Sending, Counts: ledger.Counts{Recipients: 2, Pending: 2}}
			if diff := cmp.Diff(want, progressOf(got)); diff != "" {
				t.Errorf("RetryFailed (-want +got):\n%s", diff)
			}
		})

		t.Run("RefusedUnlessSendingOrDone", func(t *testing.T) {
			t.Parallel()
			for _, from := range []ledger.Status{ledger.Scheduled, ledger.Resolving, ledger.Cancelled} {
				t.Run("From"+string(from), func(t *testing.T) {
					t.Parallel()
					led, b := newLedger(t, database)
					a := announcementIn(t, led, b, from)

					if _, _, err := led.RetryFailed(ctx, a.ID); !errors.Is(err, fault.ErrConflict) {
						t.Fatalf("RetryFailed: %v, want a conflict", err)
					}

					if diff := cmp.Diff(progressOf(a), progressOf(get(t, led, a.ID))); diff != "" {
						t.Errorf("announcement (-before +after):\n%s", diff)
					}
				})
			}
		})

		t.Run("RefusedOncePruned", func(t *testing.T) {
			t.Parallel()
			led, _, a := setup(t)
			if n, err := led.Prune(ctx, t0.Add(time.Minute)); err != nil || n != 4 {
				t.Fatalf("Prune = %d, %v; want 4 deleted", n, err)
			}

			if _, _, err := led.RetryFailed(ctx, a.ID); !errors.Is(err, fault.ErrConflict) {
				t.Fatalf("RetryFailed: %v, want a conflict", err)
			}

			if diff := cmp.Diff(progressOf(a), progressOf(get(t, led, a.ID))); diff != "" {
				t.Errorf("announcement (-before +after):\n%s", diff)
			}
		})

		t.Run("UnknownIsNotFound", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			if _, _, err := led.RetryFailed(ctx, 404); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("RetryFailed: %v, want not found", err)
			}
		})
	})
}

// TestRetryFailedKeepsStaleClaimsFenced holds RetryFailed to the promise of
// the claim fence ("once a lease has run out and the delivery has been
// claimed again, the earlier claim can neither extend it nor record an
// outcome over the new owner's"). Worker A claims (attempt 1) and stalls;
// its lease runs out; B claims (attempt 2) and the message fails; an
// operator retries the failed deliveries; C claims. A then wakes up with its
// outcome.
//
// RetryFailed starts the attempts again, so C's claim is attempt 1, as A's
// was: the fence is the claim count, which goes on (A holds fence 1, C 3).
func TestRetryFailedKeepsStaleClaimsFenced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup takes a through A, B, the retry and C, and returns A's
		// claim.
		setup := func(t *testing.T) (*ledger.Ledger, *testBundle, ledger.Announcement, ledger.Delivery, ledger.Claim) {
			t.Helper()
			led, b, a, d, stale := claimedLedger(t, database) // A
			b.clock.Advance(lease + time.Second)
			if _, err := led.ExpireLeases(ctx); err != nil {
				t.Fatalf("ExpireLeases: %v", err)
			}
			if err := led.MarkFailed(ctx, claim(t, led, d), "550 mailbox full"); err != nil { // B
				t.Fatalf("MarkFailed: %v", err)
			}
			finish(t, led, a.ID)
			if _, _, err := led.RetryFailed(ctx, a.ID); err != nil {
				t.Fatalf("RetryFailed: %v", err)
			}
			fresh := claim(t, led, d) // C, whose lease ends at t0+2*lease+1s
			t.Logf("A holds claim %+v, C claim %+v", stale, fresh)
			return led, b, a, d, stale
		}

		for _, o := range outcomes {
			t.Run("Stale"+o.name+"DoesNotEndTheNewClaim", func(t *testing.T) {
				t.Parallel()
				led, _, a, _, stale := setup(t)

				if err := o.settle(ctx, led, stale); err != nil {
					t.Fatalf("stale outcome: %v", err)
				}

				if got := deliveries(t, led, a.ID)["a@acme.test"]; got.Status != ledger.DeliverySending {
					t.Errorf("after A's stale outcome, a is %s (last error %q), want still sending for C", got.Status, got.LastError)
				}
			})
		}

		t.Run("StaleExtendLeaseDoesNotKeepTheNewClaim", func(t *testing.T) {
			t.Parallel()
			led, b, a, _, stale := setup(t)

			if err := led.ExtendLease(ctx, stale, time.Hour); err != nil {
				t.Fatalf("ExtendLease: %v", err)
			}

			b.clock.Set(t0.Add(2*lease + 2*time.Second))
			if _, err := led.ExpireLeases(ctx); err != nil {
				t.Fatalf("ExpireLeases: %v", err)
			}
			if got := deliveries(t, led, a.ID)["a@acme.test"].Status; got != ledger.DeliveryPending {
				t.Errorf("a is %s after C's lease ran out, want pending: A kept C's claim alive", got)
			}
		})
	})
}
