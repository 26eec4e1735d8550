package ledger_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/pagetest"
)

// pending is a delivery as Resolve makes it at t0.
func pending(email string, chunk int) ledger.Delivery {
	return ledger.Delivery{Email: email, Chunk: chunk, Status: ledger.DeliveryPending, NextAttemptAt: t0}
}

func emailsOf(ds []ledger.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Email)
	}
	slices.Sort(out)
	return out
}

func TestResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("InsertsOneDeliveryPerAddressInChunksByAddress", func(t *testing.T) {
			t.Parallel()
			led, b := newLedger(t, database)
			b.license(t, "SEN-1", "e@acme.test", "c@acme.test", "a@acme.test", "d@acme.test", "b@acme.test")
			a := announce(t, led, "k", time.Time{})

			chunks := resolve(t, led, a.ID, 2)

			if diff := cmp.Diff([]int{0, 1, 2}, chunks); diff != "" {
				t.Errorf("chunks (-want +got):\n%s", diff)
			}
			want := map[string]ledger.Delivery{
				"a@acme.test": pending("a@acme.test", 0),
				"b@acme.test": pending("b@acme.test", 0),
				"c@acme.test": pending("c@acme.test", 1),
				"d@acme.test": pending("d@acme.test", 1),
				"e@acme.test": pending("e@acme.test", 2),
			}
			if diff := cmp.Diff(want, deliveries(t, led, a.ID), ignoreIDs); diff != "" {
				t.Errorf("deliveries (-want +got):\n%s", diff)
			}
			wantProgress := progress{Status: ledger.Sending, Counts: ledger.Counts{Recipients: 5, Pending: 5}}
			if diff := cmp.Diff(wantProgress, progressOf(get(t, led, a.ID))); diff != "" {
				t.Errorf("announcement (-want +got):\n%s", diff)
			}
		})

		t.Run("SkipsSuppressedAlwaysAndOptedOutWhenHonoured", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name         string
				honourOptOut bool
				wantOptedOut ledger.Delivery
				wantCounts   ledger.Counts
			}{
				{
					name: "OptOutHonoured", honourOptOut: true,
					wantOptedOut: ledger.Delivery{Email: "b@acme.test", Status: ledger.DeliverySkipped, Reason: "opted out", NextAttemptAt: t0},
					wantCounts:   ledger.Counts{Recipients: 4, Pending: 1, Skipped: 3},
				},
				{
					name: "OptOutIgnored", honourOptOut: false,
					wantOptedOut: pending("b@acme.test", 0),
					wantCounts:   ledger.Counts{Recipients: 4, Pending: 2, Skipped: 2},
				},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, b := newLedger(t, database)
					// a takes mail; b opted out; c is suppressed; d is both,
					// and its suppression is the reason given.
					b.license(t, "SEN-1", "a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test")
					optOut := true
					for _, email := range []string{"b@acme.test", "d@acme.test"} {
						if _, err := b.contacts.UpdateContact(ctx, email, contacts.ContactPatch{ReleaseOptOut: &optOut}); err != nil {
							t.Fatalf("UpdateContact: %v", err)
						}
					}
					for email, reply := range map[string]string{"c@acme.test": "550 no such user", "d@acme.test": "550 mailbox gone"} {
						if err := b.contacts.Suppress(ctx, email, contacts.Suppression{Reply: reply, Code: 550}); err != nil {
							t.Fatalf("Suppress: %v", err)
						}
					}
					a := announce(t, led, "k", time.Time{})

					chunks, err := led.Resolve(ctx, a.ID, jiraAudience(tt.honourOptOut), 2)
					if err != nil {
						t.Fatalf("Resolve: %v", err)
					}

					// Skipped addresses keep their place in the chunks, so
					// chunk 1 (c and d) has nothing to send.
					if diff := cmp.Diff([]int{0}, chunks); diff != "" {
						t.Errorf("chunks (-want +got):\n%s", diff)
					}
					want := map[string]ledger.Delivery{
						"a@acme.test": pending("a@acme.test", 0),
						"b@acme.test": tt.wantOptedOut,
						"c@acme.test": {Email: "c@acme.test", Chunk: 1, Status: ledger.DeliverySkipped, Reason: "suppressed: 550 no such user", NextAttemptAt: t0},
						"d@acme.test": {Email: "d@acme.test", Chunk: 1, Status: ledger.DeliverySkipped, Reason: "suppressed: 550 mailbox gone", NextAttemptAt: t0},
					}
					if diff := cmp.Diff(want, deliveries(t, led, a.ID), ignoreIDs); diff != "" {
						t.Errorf("deliveries (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(tt.wantCounts, get(t, led, a.ID).Counts); diff != "" {
						t.Errorf("counts (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("AddressTwiceInTheAudienceIsOneDelivery", func(t *testing.T) {
			t.Parallel()
			led, b := newLedger(t, database)
			b.license(t, "SEN-1", "a@acme.test", "b@acme.test")
			b.license(t, "SEN-2", "a@acme.test")
			a := announce(t, led, "k", time.Time{})
			// Not DISTINCT: a comes once per license.
			everyTechnical := ledger.Audience{Query: `SELECT m.email FROM memberships m WHERE m.role = ?`, Args: []any{contacts.Technical}}

			if _, err := led.Resolve(ctx, a.ID, everyTechnical, 100); err != nil {
				t.Fatalf("Resolve: %v", err)
			}

			want := map[string]ledger.Delivery{"a@acme.test": pending("a@acme.test", 0), "b@acme.test": pending("b@acme.test", 0)}
			if diff := cmp.Diff(want, deliveries(t, led, a.ID), ignoreIDs); diff != "" {
				t.Errorf("deliveries (-want +got):\n%s", diff)
			}
		})

		t.Run("ResolvingAgainInsertsNothingAndReturnsPendingChunks", func(t *testing.T) {
			t.Parallel()
			led, b := newLedger(t, database)
			b.license(t, "SEN-1", "a@acme.test", "b@acme.test", "c@acme.test")
			a := announce(t, led, "k", time.Time{})
			resolve(t, led, a.ID, 2)
			ds := deliveries(t, led, a.ID)
			for _, email := range []string{"a@acme.test", "b@acme.test"} {
				if err := led.MarkSent(ctx, claim(t, led, ds[email]), "<"+email+">"); err != nil {
					t.Fatalf("MarkSent: %v", err)
				}
			}
			// Someone who joins after the fan-out does not get this one.
			if _, err := b.contacts.AddMember(ctx, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, "SEN-1", contacts.NewMember{Email: "d@acme.test", Role: contacts.Technical}); err != nil {
				t.Fatalf("AddMember: %v", err)
			}

			chunks := resolve(t, led, a.ID, 2)

			if diff := cmp.Diff([]int{1}, chunks); diff != "" {
				t.Errorf("chunks (-want +got):\n%s", diff)
			}
			wantProgress := progress{Status: ledger.Sending, Counts: ledger.Counts{Recipients: 3, Pending: 1, Sent: 2}}
			if diff := cmp.Diff(wantProgress, progressOf(get(t, led, a.ID))); diff != "" {
				t.Errorf("announcement (-want +got):\n%s", diff)
			}
			if _, ok := deliveries(t, led, a.ID)["d@acme.test"]; ok {
				t.Error("d@acme.test got a delivery from the second resolve")
			}
		})

		t.Run("NobodyToSendToEndsDone", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name       string
				emails     []string
				suppress   []string
				wantCounts ledger.Counts
			}{
				{"EmptyAudience", nil, nil, ledger.Counts{}},
				{"EveryoneSkipped", []string{"a@acme.test"}, []string{"a@acme.test"}, ledger.Counts{Recipients: 1, Skipped: 1}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, b := newLedger(t, database)
					if len(tt.emails) > 0 {
						b.license(t, "SEN-1", tt.emails...)
					}
					for _, email := range tt.suppress {
						if err := b.contacts.Suppress(ctx, email, contacts.Suppression{Reply: "550 gone", Code: 550}); err != nil {
							t.Fatalf("Suppress: %v", err)
						}
					}
					a := announce(t, led, "k", time.Time{})
					b.clock.Advance(time.Minute)

					if chunks := resolve(t, led, a.ID, 2); len(chunks) != 0 {
						t.Errorf("chunks = %v, want none", chunks)
					}

					want := progress{Status: ledger.Done, Finished: at(t0.Add(time.Minute)), Counts: tt.wantCounts}
					if diff := cmp.Diff(want, progressOf(get(t, led, a.ID))); diff != "" {
						t.Errorf("announcement (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("OnlyResolvingIsResolved", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name    string
				arrange func(t *testing.T, led *ledger.Ledger) ledger.Announcement
				want    ledger.Status
			}{
				{"ScheduledWaits", func(t *testing.T, led *ledger.Ledger) ledger.Announcement {
					return announce(t, led, "k", t0.Add(time.Hour))
				}, ledger.Scheduled},
				{"CancelledStaysCancelled", func(t *testing.T, led *ledger.Ledger) ledger.Announcement {
					a := announce(t, led, "k", time.Time{})
					if _, err := led.Cancel(ctx, a.ID); err != nil {
						t.Fatalf("Cancel: %v", err)
					}
					return a
				}, ledger.Cancelled},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, b := newLedger(t, database)
					b.license(t, "SEN-1", "a@acme.test")
					a := tt.arrange(t, led)

					if chunks := resolve(t, led, a.ID, 2); len(chunks) != 0 {
						t.Errorf("chunks = %v, want none", chunks)
					}

					got := get(t, led, a.ID)
					if got.Status != tt.want || got.Counts != (ledger.Counts{}) {
						t.Errorf("after Resolve: %s with %+v, want %s with no deliveries", got.Status, got.Counts, tt.want)
					}
				})
			}
		})

		t.Run("UnknownIsNotFound", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			if _, err := led.Resolve(ctx, 404, jiraAudience(true), 2); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Resolve: %v, want not found", err)
			}
		})
	})
}

func TestDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup resolves a, b and c into chunk 0 and d into chunk 1.
		setup := func(t *testing.T) (*ledger.Ledger, *testBundle, ledger.Announcement, map[string]ledger.Delivery) {
			t.Helper()
			led, b, a, ds := sendingLedger(t, database, 3, "a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test")
			return led, b, a, ds
		}
		due := func(t *testing.T, led *ledger.Ledger, id int64, chunk, limit int) []string {
			t.Helper()
			ds, err := led.Due(ctx, id, chunk, limit)
			if err != nil {
				t.Fatalf("Due: %v", err)
			}
			return emailsOf(ds)
		}

		t.Run("OnlyPendingDeliveriesOfTheChunkWhoseTimeHasCome", func(t *testing.T) {
			t.Parallel()
			led, b, a, ds := setup(t)
			claim(t, led, ds["a@acme.test"])
			retry := ds["b@acme.test"]
			if err := led.MarkRetry(ctx, claim(t, led, retry), "421 busy", t0.Add(10*time.Minute)); err != nil {
				t.Fatalf("MarkRetry: %v", err)
			}

			// The rows run in order, each with the clock at t0+at.
			for _, tt := range []struct {
				name  string
				at    time.Duration
				chunk int
				want  []string
			}{
				{"ChunkZero", 0, 0, []string{"c@acme.test"}},
				{"ChunkOne", 0, 1, []string{"d@acme.test"}},
				{"NoSuchChunk", 0, 2, []string{}},
				{"RetryNotYetDue", 10*time.Minute - time.Microsecond, 0, []string{"c@acme.test"}},
				{"RetryDueAtItsTime", 10 * time.Minute, 0, []string{"b@acme.test", "c@acme.test"}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					b.clock.Set(t0.Add(tt.at))
					if diff := cmp.Diff(tt.want, due(t, led, a.ID, tt.chunk, 10)); diff != "" {
						t.Errorf("Due (-want +got):\n%s", diff)
					}
				})
			}
			t.Run("Limit", func(t *testing.T) {
				if got := due(t, led, a.ID, 0, 1); len(got) != 1 {
					t.Errorf("Due with limit 1 = %v, want one of b and c", got)
				}
			})
		})

		t.Run("NextAttemptIsTheEarliestPending", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := setup(t)
			next := func(chunk int) *time.Time {
				t.Helper()
				at, ok, err := led.NextAttempt(ctx, a.ID, chunk)
				if err != nil {
					t.Fatalf("NextAttempt: %v", err)
				}
				if !ok {
					return nil
				}
				return &at
			}
			retryAt := func(email string, when time.Time) {
				t.Helper()
				d := ds[email]
				if err := led.MarkRetry(ctx, claim(t, led, d), "421 busy", when); err != nil {
					t.Fatalf("MarkRetry: %v", err)
				}
			}

			if diff := cmp.Diff(at(t0), next(0)); diff != "" {
				t.Errorf("NextAttempt when resolved (-want +got):\n%s", diff)
			}
			retryAt("a@acme.test", t0.Add(10*time.Minute))
			retryAt("b@acme.test", t0.Add(5*time.Minute))
			claim(t, led, ds["c@acme.test"]) // sending is not waiting
			if diff := cmp.Diff(at(t0.Add(5*time.Minute)), next(0)); diff != "" {
				t.Errorf("NextAttempt with retries (-want +got):\n%s", diff)
			}
			for _, email := range []string{"a@acme.test", "b@acme.test"} {
				if err := led.MarkFailed(ctx, claim(t, led, ds[email]), "550"); err != nil {
					t.Fatalf("MarkFailed: %v", err)
				}
			}
			if got := next(0); got != nil {
				t.Errorf("NextAttempt with nothing pending = %v, want none", got)
			}
			if diff := cmp.Diff(at(t0), next(1)); diff != "" {
				t.Errorf("NextAttempt of the other chunk (-want +got):\n%s", diff)
			}
		})
	})
}

func TestClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		setup := func(t *testing.T) (*ledger.Ledger, *testBundle, ledger.Announcement, map[string]ledger.Delivery) {
			t.Helper()
			led, b, a, ds := sendingLedger(t, database, 100, "a@acme.test", "b@acme.test")
			return led, b, a, ds
		}

		t.Run("CountsTheAttemptAndTakesTheDelivery", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := setup(t)

			c, ok, err := led.Claim(ctx, ds["a@acme.test"].ID, lease)

			if err != nil || !ok || c.Attempt != 1 || c.Fence != 1 {
				t.Fatalf("Claim = %+v, %v, %v; want attempt 1, fence 1", c, ok, err)
			}
			want := ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliverySending, Attempts: 1, NextAttemptAt: t0}
			if diff := cmp.Diff(want, deliveries(t, led, a.ID)["a@acme.test"], ignoreIDs); diff != "" {
				t.Errorf("delivery (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(ledger.Counts{Recipients: 2, Pending: 1, Sending: 1}, get(t, led, a.ID).Counts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
		})

		t.Run("SecondClaimFails", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := setup(t)
			d := ds["a@acme.test"]
			claim(t, led, d)

			c, ok, err := led.Claim(ctx, d.ID, lease)

			if err != nil || ok || c != (ledger.Claim{}) {
				t.Errorf("second Claim = %+v, %v, %v; want not claimed", c, ok, err)
			}
			if got := deliveries(t, led, a.ID)["a@acme.test"]; got.Attempts != 1 || got.Status != ledger.DeliverySending {
				t.Errorf("after a second Claim: %s, %d attempts; want sending, 1", got.Status, got.Attempts)
			}
		})

		t.Run("ClaimAfterARetryIsTheNextAttempt", func(t *testing.T) {
			t.Parallel()
			led, _, _, ds := setup(t)
			d := ds["a@acme.test"]
			if err := led.MarkRetry(ctx, claim(t, led, d), "421 busy", t0); err != nil {
				t.Fatalf("MarkRetry: %v", err)
			}
			if c := claim(t, led, d).Attempt; c != 2 {
				t.Errorf("Claim after a retry = attempt %d, want 2", c)
			}
		})

		t.Run("FailsOnceTheAnnouncementIsCancelled", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := setup(t)
			claimed := ds["a@acme.test"]
			c := claim(t, led, claimed)
			if _, err := led.Cancel(ctx, a.ID); err != nil {
				t.Fatalf("Cancel: %v", err)
			}
			// The claimed one comes back to pending (not yet swept); the
			// other one was cancelled.
			if err := led.MarkRetry(ctx, c, "421 busy", t0); err != nil {
				t.Fatalf("MarkRetry: %v", err)
			}

			for email, wantStatus := range map[string]ledger.DeliveryStatus{"a@acme.test": ledger.DeliveryPending, "b@acme.test": ledger.DeliveryCancelled} {
				if _, ok, err := led.Claim(ctx, ds[email].ID, lease); err != nil || ok {
					t.Errorf("Claim %s = %v, %v; want not claimed", email, ok, err)
				}
				if got := deliveries(t, led, a.ID)[email].Status; got != wantStatus {
					t.Errorf("%s after Claim: %s, want %s", email, got, wantStatus)
				}
			}
		})

		t.Run("UnknownDeliveryIsNotClaimed", func(t *testing.T) {
			t.Parallel()
			led, _, _, _ := setup(t)
			if _, ok, err := led.Claim(ctx, 404, lease); err != nil || ok {
				t.Errorf("Claim = %v, %v; want not claimed", ok, err)
			}
		})
	})
}

func TestSettle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup claims the one delivery, a, at t0 and moves the clock on
		// by 30s.
		setup := func(t *testing.T) (*ledger.Ledger, *testBundle, ledger.Announcement, ledger.Delivery, ledger.Claim) {
			t.Helper()
			led, b, a, d, c := claimedLedger(t, database)
			b.clock.Advance(30 * time.Second)
			return led, b, a, d, c
		}
		now := t0.Add(30 * time.Second)

		t.Run("RecordsTheOutcome", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name       string
				settle     func(led *ledger.Ledger, c ledger.Claim) error
				want       ledger.Delivery
				wantCounts ledger.Counts
			}{
				{
					name: "RetryIsPendingAgainAtTheGivenTime",
					settle: func(led *ledger.Ledger, c ledger.Claim) error {
						return led.MarkRetry(ctx, c, "421 busy", now.Add(10*time.Minute))
					},
					want:       ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliveryPending, Attempts: 1, NextAttemptAt: now.Add(10 * time.Minute), LastError: "421 busy"},
					wantCounts: ledger.Counts{Recipients: 1, Pending: 1},
				},
				{
					name: "Failed",
					settle: func(led *ledger.Ledger, c ledger.Claim) error {
						return led.MarkFailed(ctx, c, "550 no such user")
					},
					want:       ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliveryFailed, Attempts: 1, NextAttemptAt: t0, LastError: "550 no such user"},
					wantCounts: ledger.Counts{Recipients: 1, Failed: 1},
				},
				{
					name: "Skipped",
					settle: func(led *ledger.Ledger, c ledger.Claim) error {
						return led.MarkSkipped(ctx, c, "no longer a technical contact")
					},
					want:       ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliverySkipped, Reason: "no longer a technical contact", Attempts: 1, NextAttemptAt: t0},
					wantCounts: ledger.Counts{Recipients: 1, Skipped: 1},
				},
				{
					name: "Sent",
					settle: func(led *ledger.Ledger, c ledger.Claim) error {
						return led.MarkSent(ctx, c, "<1.1@herald.test>")
					},
					want:       ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliverySent, Attempts: 1, NextAttemptAt: t0, MessageID: "<1.1@herald.test>", SentAt: at(now)},
					wantCounts: ledger.Counts{Recipients: 1, Sent: 1},
				},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, _, a, _, c := setup(t)

					if err := tt.settle(led, c); err != nil {
						t.Fatalf("settle: %v", err)
					}

					if diff := cmp.Diff(tt.want, deliveries(t, led, a.ID)["a@acme.test"], ignoreIDs); diff != "" {
						t.Errorf("delivery (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(tt.wantCounts, get(t, led, a.ID).Counts); diff != "" {
						t.Errorf("counts (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("LastErrorIsKeptUntilTheMessageIsSent", func(t *testing.T) {
			t.Parallel()
			led, _, a, d, c := setup(t)
			if err := led.MarkRetry(ctx, c, "421 busy", now); err != nil {
				t.Fatalf("MarkRetry: %v", err)
			}
			c = claim(t, led, d)
			if got := deliveries(t, led, a.ID)["a@acme.test"].LastError; got != "421 busy" {
				t.Errorf("last error while retrying = %q, want the retry's", got)
			}

			if err := led.MarkSent(ctx, c, "<m>"); err != nil {
				t.Fatalf("MarkSent: %v", err)
			}

			want := ledger.Delivery{Email: "a@acme.test", Status: ledger.DeliverySent, Attempts: 2, NextAttemptAt: now, MessageID: "<m>", SentAt: at(now)}
			if diff := cmp.Diff(want, deliveries(t, led, a.ID)["a@acme.test"], ignoreIDs); diff != "" {
				t.Errorf("delivery (-want +got):\n%s", diff)
			}
		})

		t.Run("AnOutcomeIsRecordedOnce", func(t *testing.T) {
			t.Parallel()
			sent := func(led *ledger.Ledger, c ledger.Claim) error {
				return led.MarkSent(ctx, c, "<m>")
			}
			failed := func(led *ledger.Ledger, c ledger.Claim) error {
				return led.MarkFailed(ctx, c, "550")
			}
			skipped := func(led *ledger.Ledger, c ledger.Claim) error {
				return led.MarkSkipped(ctx, c, "gone")
			}
			retry := func(led *ledger.Ledger, c ledger.Claim) error {
				return led.MarkRetry(ctx, c, "421", now)
			}
			for _, tt := range []struct {
				name          string
				first, second func(led *ledger.Ledger, c ledger.Claim) error
				want          ledger.DeliveryStatus
			}{
				{"FailedAfterSent", sent, failed, ledger.DeliverySent},
				{"RetryAfterSent", sent, retry, ledger.DeliverySent},
				{"SentAfterFailed", failed, sent, ledger.DeliveryFailed},
				{"SkippedAfterFailed", failed, skipped, ledger.DeliveryFailed},
				{"SentAfterSkipped", skipped, sent, ledger.DeliverySkipped},
				{"FailedAfterRetry", retry, failed, ledger.DeliveryPending},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, _, a, _, c := setup(t)
					if err := tt.first(led, c); err != nil {
						t.Fatalf("first outcome: %v", err)
					}
					if err := tt.second(led, c); err != nil {
						t.Fatalf("second outcome: %v", err)
					}
					if got := deliveries(t, led, a.ID)["a@acme.test"].Status; got != tt.want {
						t.Errorf("status = %s, want %s", got, tt.want)
					}
				})
			}
		})

		t.Run("UnclaimedDeliveryIsNotSettled", func(t *testing.T) {
			t.Parallel()
			led, _, a, ds := sendingLedger(t, database, 100, "a@acme.test")
			d := ds["a@acme.test"]
			if err := led.MarkFailed(ctx, fenced(d, 1), "550"); err != nil {
				t.Fatalf("MarkFailed: %v", err)
			}
			if err := led.MarkSkipped(ctx, fenced(d, 1), "gone"); err != nil {
				t.Fatalf("MarkSkipped: %v", err)
			}
			if err := led.MarkSent(ctx, fenced(d, 1), "<m>"); err != nil {
				t.Fatalf("MarkSent: %v", err)
			}
			if diff := cmp.Diff(pending("a@acme.test", 0), deliveries(t, led, a.ID)["a@acme.test"], ignoreIDs); diff != "" {
				t.Errorf("delivery (-want +got):\n%s", diff)
			}
		})
	})
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup resolves a to e and leaves a sent, b failed, c sending, and
		// d and e pending.
		setup := func(t *testing.T) (*ledger.Ledger, ledger.Announcement) {
			t.Helper()
			led, _, a, ds := sendingLedger(t, database, 100, "a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test", "e@acme.test")
			if err := led.MarkSent(ctx, claim(t, led, ds["a@acme.test"]), "<a>"); err != nil {
				t.Fatalf("MarkSent: %v", err)
			}
			if err := led.MarkFailed(ctx, claim(t, led, ds["b@acme.test"]), "550"); err != nil {
				t.Fatalf("MarkFailed: %v", err)
			}
			claim(t, led, ds["c@acme.test"])
			return led, a
		}

		t.Run("PagesInTheOrderTheyWereMade", func(t *testing.T) {
			t.Parallel()
			led, a := setup(t)
			pages := pagetest.Walk(t, 2, func(req page.Request) (page.Page[ledger.Delivery], error) {
				return led.Deliveries(ctx, a.ID, ledger.DeliveryFilter{Page: req})
			})
			var (
				sizes []int
				ids   []int64
			)
			for _, p := range pages {
				sizes = append(sizes, len(p))
			}
			seen := slices.Concat(pages...)
			for _, d := range seen {
				ids = append(ids, d.ID)
			}
			if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			if !slices.IsSorted(ids) {
				t.Errorf("ids across pages = %v, want ascending", ids)
			}
			want := []string{"a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test", "e@acme.test"}
			if diff := cmp.Diff(want, emailsOf(seen)); diff != "" {
				t.Errorf("deliveries across pages (-want +got):\n%s", diff)
			}
		})

		t.Run("FiltersByStatus", func(t *testing.T) {
			t.Parallel()
			led, a := setup(t)
			for _, tt := range []struct {
				status ledger.DeliveryStatus
				want   []string
			}{
				{"", []string{"a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test", "e@acme.test"}},
				{ledger.DeliveryPending, []string{"d@acme.test", "e@acme.test"}},
				{ledger.DeliverySending, []string{"c@acme.test"}},
				{ledger.DeliverySent, []string{"a@acme.test"}},
				{ledger.DeliveryFailed, []string{"b@acme.test"}},
				{ledger.DeliverySkipped, []string{}},
				{ledger.DeliveryCancelled, []string{}},
			} {
				t.Run("Status="+string(tt.status), func(t *testing.T) {
					p, err := led.Deliveries(ctx, a.ID, ledger.DeliveryFilter{Status: tt.status})
					if err != nil {
						t.Fatalf("Deliveries: %v", err)
					}
					if diff := cmp.Diff(tt.want, emailsOf(p.Items)); diff != "" {
						t.Errorf("Deliveries (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("PagesWithinAStatus", func(t *testing.T) {
			t.Parallel()
			led, a := setup(t)
			first, err := led.Deliveries(ctx, a.ID, ledger.DeliveryFilter{Status: ledger.DeliveryPending, Page: page.Request{Limit: 1}})
			if err != nil {
				t.Fatalf("Deliveries: %v", err)
			}
			second, err := led.Deliveries(ctx, a.ID, ledger.DeliveryFilter{Status: ledger.DeliveryPending, Page: page.Request{Limit: 1, After: first.Next}})
			if err != nil {
				t.Fatalf("Deliveries after %q: %v", first.Next, err)
			}
			got := emailsOf(append(first.Items, second.Items...))
			if diff := cmp.Diff([]string{"d@acme.test", "e@acme.test"}, got); diff != "" {
				t.Errorf("pending across pages (-want +got):\n%s", diff)
			}
			if first.Next == "" || second.Next != "" {
				t.Errorf("cursors %q then %q, want one then none", first.Next, second.Next)
			}
		})

		t.Run("RefusesBadInput", func(t *testing.T) {
			t.Parallel()
			led, a := setup(t)
			for _, tt := range []struct {
				name      string
				filter    ledger.DeliveryFilter
				wantField string
			}{
				{"CursorNotBase64", ledger.DeliveryFilter{Page: page.Request{After: "%%"}}, "after"},
				{"CursorNotAnID", ledger.DeliveryFilter{Page: page.Request{After: page.Cursor("a@acme.test")}}, "after"},
				{"CursorNegative", ledger.DeliveryFilter{Page: page.Request{After: page.Cursor("-3")}}, "after"},
				{"NegativeLimit", ledger.DeliveryFilter{Page: page.Request{Limit: -1}}, "limit"},
				{"UnknownStatus", ledger.DeliveryFilter{Status: "lost"}, "status"},
				{"AnnouncementStatus", ledger.DeliveryFilter{Status: ledger.DeliveryStatus(ledger.Done)}, "status"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					_, err := led.Deliveries(ctx, a.ID, tt.filter)
					wantInvalid(t, err, tt.wantField)
				})
			}
		})

		t.Run("UnknownAnnouncementIsNotFound", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			if _, err := led.Deliveries(ctx, 404, ledger.DeliveryFilter{}); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Deliveries: %v, want not found", err)
			}
		})
	})
}

// TestClaimConcurrently has two workers claim every delivery of one chunk
// at once, each as the send task does (Due, then Claim each one): the
// database, not the workers, decides who gets each delivery.
func TestClaimConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const recipients, workers = 60, 2

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Parallel()
		led, b := newLedger(t, database)
		emails := make([]string, recipients)
		for i := range emails {
			emails[i] = "r" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + "@acme.test"
		}
		a, _ := b.sending(t, led, recipients, emails...)

		var (
			mu      sync.Mutex
			claims  = make(map[int64]int) // delivery → successful claims
			byWhom  = make([]int, workers)
			start   = make(chan struct{})
			running sync.WaitGroup
		)
		for w := range byWhom {
			running.Go(func() {
				<-start
				for {
					due, err := led.Due(ctx, a.ID, 0, 10)
					if err != nil {
						t.Errorf("worker %d: Due: %v", w, err)
						return
					}
					if len(due) == 0 {
						return
					}
					for _, d := range due {
						_, ok, err := led.Claim(ctx, d.ID, lease)
						if err != nil {
							t.Errorf("worker %d: Claim: %v", w, err)
							return
						}
						if ok {
							mu.Lock()
							claims[d.ID]++
							byWhom[w]++
							mu.Unlock()
						}
					}
				}
			})
		}
		close(start)
		running.Wait()

		total := 0
		for id, n := range claims {
			if n != 1 {
				t.Errorf("delivery %d claimed %d times, want once", id, n)
			}
			total += n
		}
		if total != recipients {
			t.Errorf("%d claims in all (%v by worker), want %d", total, byWhom, recipients)
		}
		t.Logf("claims by worker: %v", byWhom)
		want := ledger.Counts{Recipients: recipients, Sending: recipients}
		if diff := cmp.Diff(want, get(t, led, a.ID).Counts); diff != "" {
			t.Errorf("counts (-want +got):\n%s", diff)
		}
		for email, d := range deliveries(t, led, a.ID) {
			if d.Attempts != 1 {
				t.Errorf("%s: %d attempts, want 1", email, d.Attempts)
			}
		}
	})
}
