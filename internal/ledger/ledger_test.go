package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/pagetest"
)

// t0 is when every test starts.
var t0 = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

// lease is how long the tests' claims last.
const lease = time.Minute

// clock is the time the ledger reads. Tests move it; the goroutines of a
// concurrent test read it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set puts the clock at now.
func (c *clock) Set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

// Advance moves the clock on by d and returns the new time.
func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

type testBundle struct {
	clock    *clock
	contacts *contacts.Store
	db       *db.DB
}

// newLedger returns a ledger on a fresh database of its own, its clock at t0.
func newLedger(t *testing.T, database dbtest.Database) (*ledger.Ledger, *testBundle) {
	t.Helper()
	d := database.Open(t)
	c := &clock{now: t0}
	return ledger.New(d, c.Now), &testBundle{clock: c, contacts: contacts.NewStore(d, c.Now), db: d}
}

// license creates an active jira license whose technical contacts are emails.
func (b *testBundle) license(t *testing.T, id string, emails ...string) {
	t.Helper()
	members := make([]contacts.NewMember, len(emails))
	for i, e := range emails {
		members[i] = contacts.NewMember{Email: e, Role: contacts.Technical}
	}
	_, err := b.contacts.CreateLicense(context.Background(), contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, contacts.NewLicense{ID: id, Product: "jira", Name: "Acme", Contacts: members})
	if err != nil {
		t.Fatalf("CreateLicense %s: %v", id, err)
	}
}

// sending announces a release now to a license holding emails, resolved in
// chunks of chunkSize, and returns it with its deliveries by address.
func (b *testBundle) sending(t *testing.T, led *ledger.Ledger, chunkSize int, emails ...string) (ledger.Announcement, map[string]ledger.Delivery) {
	t.Helper()
	b.license(t, "SEN-1", emails...)
	a := announce(t, led, "release:jira:1.0", time.Time{})
	resolve(t, led, a.ID, chunkSize)
	return get(t, led, a.ID), deliveries(t, led, a.ID)
}

// sendingLedger is newLedger with an announcement sending to emails, in
// chunks of chunkSize.
func sendingLedger(t *testing.T, database dbtest.Database, chunkSize int, emails ...string) (*ledger.Ledger, *testBundle, ledger.Announcement, map[string]ledger.Delivery) {
	t.Helper()
	led, b := newLedger(t, database)
	a, ds := b.sending(t, led, chunkSize, emails...)
	return led, b, a, ds
}

// claimedLedger is newLedger with an announcement sending to a@acme.test
// alone, whose delivery d a worker claimed at t0.
func claimedLedger(t *testing.T, database dbtest.Database) (*ledger.Ledger, *testBundle, ledger.Announcement, ledger.Delivery, ledger.Claim) {
	t.Helper()
	led, b, a, ds := sendingLedger(t, database, 100, "a@acme.test")
	d := ds["a@acme.test"]
	return led, b, a, d, claim(t, led, d)
}

// jiraAudience is every technical contact of an active jira license.
func jiraAudience(honourOptOut bool) ledger.Audience {
	q, args := contacts.ReleaseAudienceQuery("jira")
	return ledger.Audience{Query: q, Args: args, HonourOptOut: honourOptOut}
}

func newAnnouncement(key string, sendAt time.Time) ledger.NewAnnouncement {
	return ledger.NewAnnouncement{
		Kind: "release", DedupeKey: key, Template: "release", Subject: "Jira " + key,
		Params: map[string]any{"version": "1.0"}, Audience: map[string]any{"product": "jira"}, SendAt: sendAt,
	}
}

// announce announces a release under key, due at sendAt (now when zero).
func announce(t *testing.T, led *ledger.Ledger, key string, sendAt time.Time) ledger.Announcement {
	t.Helper()
	a, created, err := led.Announce(context.Background(), newAnnouncement(key, sendAt))
	if err != nil || !created {
		t.Fatalf("Announce %s: created %v, %v", key, created, err)
	}
	return a
}

// resolve fans an announcement out to the jira audience, opt-outs honoured.
func resolve(t *testing.T, led *ledger.Ledger, id int64, chunkSize int) []int {
	t.Helper()
	chunks, err := led.Resolve(context.Background(), id, jiraAudience(true), chunkSize)
	if err != nil {
		t.Fatalf("Resolve %d: %v", id, err)
	}
	return chunks
}

func get(t *testing.T, led *ledger.Ledger, id int64) ledger.Announcement {
	t.Helper()
	a, err := led.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get %d: %v", id, err)
	}
	return a
}

// deliveries returns every delivery of an announcement, by address.
func deliveries(t *testing.T, led *ledger.Ledger, id int64) map[string]ledger.Delivery {
	t.Helper()
	p, err := led.Deliveries(context.Background(), id, ledger.DeliveryFilter{Page: page.Request{Limit: page.MaxSize}})
	if err != nil {
		t.Fatalf("Deliveries %d: %v", id, err)
	}
	out := make(map[string]ledger.Delivery, len(p.Items))
	for _, d := range p.Items {
		out[d.Email] = d
	}
	return out
}

// claim claims a delivery for lease.
func claim(t *testing.T, led *ledger.Ledger, d ledger.Delivery) ledger.Claim {
	t.Helper()
	c, ok, err := led.Claim(context.Background(), d.ID, lease)
	if err != nil || !ok {
		t.Fatalf("Claim %s: ok %v, %v", d.Email, ok, err)
	}
	return c
}

// ignoreIDs compares deliveries by what they say, not by their keys.
var ignoreIDs = cmpopts.IgnoreFields(ledger.Delivery{}, "ID", "AnnouncementID")

// progress is what a test says of an announcement: where it is and how far
// its deliveries got.
type progress struct {
	Status   ledger.Status
	Finished *time.Time
	Counts   ledger.Counts
}

func progressOf(a ledger.Announcement) progress {
	return progress{Status: a.Status, Finished: a.FinishedAt, Counts: a.Counts}
}

func at(t time.Time) *time.Time { return &t }

// wantInvalid fails the test unless err is invalid input in field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if f, ok := fault.As(err); !ok || f.Kind != fault.KindInvalid || f.Field != field {
		t.Fatalf("err = %v, want invalid input in %q", err, field)
	}
}

func TestAnnounce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("StatusFollowsSendAt", func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name       string
				sendAt     time.Time
				wantStatus ledger.Status
				wantSendAt time.Time
			}{
				{"ZeroIsDueNow", time.Time{}, ledger.Resolving, t0},
				{"PastIsDue", t0.Add(-time.Hour), ledger.Resolving, t0.Add(-time.Hour)},
				{"NowIsDue", t0, ledger.Resolving, t0},
				{"FutureIsScheduled", t0.Add(time.Microsecond), ledger.Scheduled, t0.Add(time.Microsecond)},
				{"SubMicrosecondIsTruncated", t0.Add(time.Hour + 999*time.Nanosecond), ledger.Scheduled, t0.Add(time.Hour)},
			} {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					led, _ := newLedger(t, database)
					a, created, err := led.Announce(ctx, newAnnouncement("k", tt.sendAt))
					if err != nil || !created {
						t.Fatalf("Announce: created %v, %v", created, err)
					}
					want := ledger.Announcement{
						ID: a.ID, Kind: "release", DedupeKey: "k", Template: "release", Subject: "Jira k",
						Params: ledger.JSON(`{"version":"1.0"}`), Audience: ledger.JSON(`{"product":"jira"}`),
						SendAt: tt.wantSendAt, Status: tt.wantStatus, CreatedAt: t0, UpdatedAt: t0,
					}
					if diff := cmp.Diff(want, a); diff != "" {
						t.Errorf("Announce (-want +got):\n%s", diff)
					}
					if diff := cmp.Diff(a, get(t, led, a.ID)); diff != "" {
						t.Errorf("Get (-announced +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("SameDedupeKeyReturnsTheFirst", func(t *testing.T) {
			t.Parallel()
			led, b := newLedger(t, database)
			first := announce(t, led, "release:jira:1.0", time.Time{})
			b.clock.Advance(time.Hour)
			again := newAnnouncement("release:jira:1.0", t0.Add(48*time.Hour))
			again.Subject = "a second attempt"
			a, created, err := led.Announce(ctx, again)
			if err != nil {
				t.Fatalf("Announce again: %v", err)
			}
			if created {
				t.Error("Announce again: created = true, want false")
			}
			if diff := cmp.Diff(first, a); diff != "" {
				t.Errorf("Announce again (-first +got):\n%s", diff)
			}
			list, err := led.List(ctx, ledger.Filter{})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(list.Items) != 1 {
				t.Errorf("List: %d announcements, want 1", len(list.Items))
			}
		})

		t.Run("CreateJoinsTheCallersTransaction", func(t *testing.T) {
			t.Parallel()
			led, b := newLedger(t, database)
			rollback := errors.New("roll back")
			err := b.db.InTx(ctx, func(tx *sqlx.Tx) error {
				a, created, err := led.Create(ctx, tx, newAnnouncement("k", time.Time{}))
				if err != nil || !created || a.Status != ledger.Resolving {
					t.Fatalf("Create: %s, created %v, %v", a.Status, created, err)
				}
				return rollback
			})
			if !errors.Is(err, rollback) {
				t.Fatalf("InTx: %v", err)
			}
			list, err := led.List(ctx, ledger.Filter{})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(list.Items) != 0 {
				t.Errorf("List after rollback: %d announcements, want none", len(list.Items))
			}
		})

		t.Run("UnknownIsNotFound", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			if _, err := led.Get(ctx, 404); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Get: %v, want not found", err)
			}
			if _, err := led.Lookup(ctx, 404); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Lookup: %v, want not found", err)
			}
		})
	})
}

func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup announces k1 and k2 due now (resolving), and k3, k4 and k5
		// in an hour (scheduled).
		setup := func(t *testing.T) *ledger.Ledger {
			t.Helper()
			led, _ := newLedger(t, database)
			for i, key := range []string{"k1", "k2", "k3", "k4", "k5"} {
				sendAt := time.Time{}
				if i >= 2 {
					sendAt = t0.Add(time.Hour)
				}
				announce(t, led, key, sendAt)
			}
			return led
		}
		keys := func(as []ledger.Announcement) []string {
			out := []string{}
			for _, a := range as {
				out = append(out, a.DedupeKey)
			}
			return out
		}

		t.Run("PagesNewestFirst", func(t *testing.T) {
			t.Parallel()
			led := setup(t)
			var got [][]string
			for _, p := range pagetest.Walk(t, 2, func(req page.Request) (page.Page[ledger.Announcement], error) {
				return led.List(ctx, ledger.Filter{Page: req})
			}) {
				got = append(got, keys(p))
			}
			want := [][]string{{"k5", "k4"}, {"k3", "k2"}, {"k1"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})

		t.Run("Filters", func(t *testing.T) {
			t.Parallel()
			led := setup(t)
			for _, tt := range []struct {
				name   string
				filter ledger.Filter
				want   []string
			}{
				{"Everything", ledger.Filter{}, []string{"k5", "k4", "k3", "k2", "k1"}},
				{"Scheduled", ledger.Filter{Status: ledger.Scheduled}, []string{"k5", "k4", "k3"}},
				{"Resolving", ledger.Filter{Status: ledger.Resolving}, []string{"k2", "k1"}},
				{"Done", ledger.Filter{Status: ledger.Done}, []string{}},
				{"Kind", ledger.Filter{Kind: "release"}, []string{"k5", "k4", "k3", "k2", "k1"}},
				{"OtherKind", ledger.Filter{Kind: "broadcast"}, []string{}},
				{"StatusPaged", ledger.Filter{Status: ledger.Scheduled, Page: page.Request{Limit: 2}}, []string{"k5", "k4"}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					p, err := led.List(ctx, tt.filter)
					if err != nil {
						t.Fatalf("List: %v", err)
					}
					if diff := cmp.Diff(tt.want, keys(p.Items)); diff != "" {
						t.Errorf("List (-want +got):\n%s", diff)
					}
				})
			}
		})

		t.Run("RefusesBadInput", func(t *testing.T) {
			t.Parallel()
			led := setup(t)
			for _, tt := range []struct {
				name      string
				filter    ledger.Filter
				wantField string
			}{
				{"CursorNotBase64", ledger.Filter{Page: page.Request{After: "!!"}}, "after"},
				{"CursorNotAnID", ledger.Filter{Page: page.Request{After: page.Cursor("k3")}}, "after"},
				{"CursorZero", ledger.Filter{Page: page.Request{After: page.Cursor("0")}}, "after"},
				{"LimitTooLarge", ledger.Filter{Page: page.Request{Limit: page.MaxSize + 1}}, "limit"},
				{"UnknownStatus", ledger.Filter{Status: "stopped"}, "status"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					_, err := led.List(ctx, tt.filter)
					wantInvalid(t, err, tt.wantField)
				})
			}
		})
	})
}

// fenced is the claim of d with fence n, as its n-th worker holds it (with
// no retry-failed in between, the n-th attempt too).
func fenced(d ledger.Delivery, n int) ledger.Claim {
	return ledger.Claim{Delivery: d.ID, Attempt: n, Fence: n}
}
