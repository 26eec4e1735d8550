package ledger_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/markdown"
	"github.com/heraldhq/herald/internal/page"
)

// announceRelease is what a release notice is, as far as these tests need.
func announceRelease(nr ledger.NewRelease) ledger.NewAnnouncement {
	return ledger.NewAnnouncement{
		Kind: "release", DedupeKey: "release:" + nr.Product + ":" + nr.Version, Template: "release", Subject: nr.Title,
		Params: map[string]any{"version": nr.Version}, Audience: map[string]any{"product": nr.Product}, SendAt: nr.SendAt,
	}
}

const feedURL = "https://vendor.test/jira/releases.atom"

// feed is what the jira release feed lists, oldest first.
func feed(versions ...string) []ledger.NewRelease {
	out := make([]ledger.NewRelease, len(versions))
	for i, v := range versions {
		out[i] = ledger.NewRelease{Product: "jira", Version: v, Notes: "* What is new in " + v}
	}
	return out
}

// dedupeKeys are the keys of the announcements, in order.
func dedupeKeys(as []ledger.Announcement) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.DedupeKey)
	}
	return out
}

func TestRecordFeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		record := func(t *testing.T, led *ledger.Ledger, versions ...string) ledger.FeedRecord {
			t.Helper()
			rec, err := led.RecordFeed(ctx, "jira", feedURL, feed(versions...), announceRelease)
			if err != nil {
				t.Fatalf("RecordFeed %v: %v", versions, err)
			}
			return rec
		}
		announced := func(t *testing.T, led *ledger.Ledger) []string {
			t.Helper()
			list, err := led.List(ctx, ledger.Filter{})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			return dedupeKeys(list.Items)
		}

		t.Run("FirstRecordOnlyNotesTheVersions", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)

			for i := range 2 {
				rec := record(t, led, "1.0", "1.1")
				if len(rec.Announced) != 0 || len(rec.Refused) != 0 {
					t.Errorf("record %d = %+v, want nothing announced or refused", i+1, rec)
				}
			}

			if got := announced(t, led); len(got) != 0 {
				t.Errorf("announcements = %v, want none for the back catalogue", got)
			}
			rels, err := led.Releases(ctx, "", page.Request{})
			if err != nil || len(rels.Items) != 0 {
				t.Errorf("Releases = %v, %v; want none", rels.Items, err)
			}
		})

		t.Run("NewVersionIsAnnouncedOnce", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			record(t, led, "1.0")

			rec := record(t, led, "1.0", "1.1")
			again := record(t, led, "1.0", "1.1")

			if diff := cmp.Diff([]string{"release:jira:1.1"}, dedupeKeys(rec.Announced)); diff != "" {
				t.Errorf("announced (-want +got):\n%s", diff)
			}
			if a := rec.Announced[0]; a.Status != ledger.Resolving || a.Subject != "jira 1.1" {
				t.Errorf("announcement is %s with subject %q, want resolving, jira 1.1", a.Status, a.Subject)
			}
			if len(again.Announced) != 0 || len(again.Refused) != 0 {
				t.Errorf("record again = %+v, want nothing", again)
			}
			if diff := cmp.Diff([]string{"release:jira:1.1"}, announced(t, led)); diff != "" {
				t.Errorf("announcements (-want +got):\n%s", diff)
			}
			rels, err := led.Releases(ctx, "jira", page.Request{})
			if err != nil {
				t.Fatalf("Releases: %v", err)
			}
			want := []ledger.Release{{
				ID: rels.Items[0].ID, Product: "jira", Version: "1.1", Title: "jira 1.1", Notes: "* What is new in 1.1",
				AnnouncementID: rec.Announced[0].ID, CreatedAt: t0,
			}}
			if diff := cmp.Diff(want, rels.Items); diff != "" {
				t.Errorf("Releases (-want +got):\n%s", diff)
			}
		})

		t.Run("InvalidVersionIsRefusedNotFatal", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			record(t, led, "1.0")

			rec := record(t, led, "1.0", "1.1 beta", "1.2")

			if diff := cmp.Diff([]string{"release:jira:1.2"}, dedupeKeys(rec.Announced)); diff != "" {
				t.Errorf("announced (-want +got):\n%s", diff)
			}
			if len(rec.Refused) != 1 || rec.Refused[0].Version != "1.1 beta" {
				t.Fatalf("refused = %+v, want 1.1 beta", rec.Refused)
			}
			wantInvalid(t, rec.Refused[0].Err, "version")
			// Seen, so it is not refused on every poll.
			if again := record(t, led, "1.0", "1.1 beta", "1.2"); len(again.Refused) != 0 || len(again.Announced) != 0 {
				t.Errorf("record again = %+v, want nothing", again)
			}
		})

		t.Run("VersionAnnouncedByHandIsNotAnnouncedAgain", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			record(t, led, "1.0")
			if _, _, created, err := led.CreateRelease(ctx, feed("1.1")[0], announceRelease); err != nil || !created {
				t.Fatalf("CreateRelease: created %v, %v", created, err)
			}

			rec := record(t, led, "1.0", "1.1")

			if len(rec.Announced) != 0 || len(rec.Refused) != 0 {
				t.Errorf("record = %+v, want nothing", rec)
			}
			if diff := cmp.Diff([]string{"release:jira:1.1"}, announced(t, led)); diff != "" {
				t.Errorf("announcements (-want +got):\n%s", diff)
			}
		})

		t.Run("ConcurrentPollersAnnounceEachVersionOnce", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			record(t, led, "1.0")

			var (
				mu      sync.Mutex
				got     []string
				pollers sync.WaitGroup
				start   = make(chan struct{})
			)
			for range 3 {
				pollers.Go(func() {
					<-start
					rec, err := led.RecordFeed(ctx, "jira", feedURL, feed("1.0", "1.1", "1.2"), announceRelease)
					if err != nil {
						t.Errorf("RecordFeed: %v", err)
						return
					}
					mu.Lock()
					got = append(got, dedupeKeys(rec.Announced)...)
					mu.Unlock()
				})
			}
			close(start)
			pollers.Wait()

			if diff := cmp.Diff([]string{"release:jira:1.1", "release:jira:1.2"}, got, cmpopts.SortSlices(func(x, y string) bool { return x < y })); diff != "" {
				t.Errorf("announced by all pollers (-want +got):\n%s", diff)
			}
			if got := announced(t, led); len(got) != 2 {
				t.Errorf("announcements = %v, want 2", got)
			}
		})
	})
}

func TestCreateRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("SameProductAndVersionTwiceCreatesOnce", func(t *testing.T) {
			t.Parallel()
			led, b := newLedger(t, database)
			rel, a, created, err := led.CreateRelease(ctx, ledger.NewRelease{Product: "jira", Version: "1.0", Title: "Jira 1.0"}, announceRelease)
			if err != nil || !created {
				t.Fatalf("CreateRelease: created %v, %v", created, err)
			}
			b.clock.Advance(time.Hour)

			rel2, a2, created, err := led.CreateRelease(ctx, ledger.NewRelease{Product: "JIRA", Version: "1.0", Title: "Jira 1.0, again"}, announceRelease)
			if err != nil {
				t.Fatalf("CreateRelease again: %v", err)
			}

			if created {
				t.Error("CreateRelease again: created = true, want false")
			}
			if diff := cmp.Diff(rel, rel2); diff != "" {
				t.Errorf("release (-first +again):\n%s", diff)
			}
			if diff := cmp.Diff(a, a2); diff != "" {
				t.Errorf("announcement (-first +again):\n%s", diff)
			}
			rels, err := led.Releases(ctx, "", page.Request{})
			if err != nil || len(rels.Items) != 1 {
				t.Errorf("Releases = %v, %v; want one", rels.Items, err)
			}
		})

		t.Run("NormalizesWhatItStores", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)

			rel, a, _, err := led.CreateRelease(ctx, ledger.NewRelease{Product: " Jira ", Version: " 2.0 ", Notes: "\n* Faster\n", SendAt: t0.Add(time.Hour)}, announceRelease)
			if err != nil {
				t.Fatalf("CreateRelease: %v", err)
			}

			want := ledger.Release{ID: rel.ID, Product: "jira", Version: "2.0", Title: "jira 2.0", Notes: "* Faster", AnnouncementID: a.ID, CreatedAt: t0}
			if diff := cmp.Diff(want, rel); diff != "" {
				t.Errorf("release (-want +got):\n%s", diff)
			}
			if a.DedupeKey != "release:jira:2.0" || a.Status != ledger.Scheduled {
				t.Errorf("announcement %s is %s, want release:jira:2.0 scheduled", a.DedupeKey, a.Status)
			}
		})

		t.Run("RefusesBadInput", func(t *testing.T) {
			t.Parallel()
			led, _ := newLedger(t, database)
			ok := ledger.NewRelease{Product: "jira", Version: "1.0"}
			for _, tt := range []struct {
				name      string
				change    func(nr *ledger.NewRelease)
				wantField string
			}{
				{"NoProduct", func(nr *ledger.NewRelease) { nr.Product = "" }, "product"},
				{"ProductWithSpace", func(nr *ledger.NewRelease) { nr.Product = "jira software" }, "product"},
				{"NoVersion", func(nr *ledger.NewRelease) { nr.Version = " " }, "version"},
				{"VersionWithSpace", func(nr *ledger.NewRelease) { nr.Version = "1.0 beta" }, "version"},
				{"VersionTooLong", func(nr *ledger.NewRelease) { nr.Version = strings.Repeat("1", 65) }, "version"},
				{"TitleWithLineBreak", func(nr *ledger.NewRelease) { nr.Title = "Jira\r\nBcc: x@y.test" }, "title"},
				{"NotesWithNUL", func(nr *ledger.NewRelease) { nr.Notes = "a\x00b" }, "notes"},
				{"NotesTooSlowToRender", func(nr *ledger.NewRelease) { nr.Notes = strings.Repeat("[a](", 4096) }, "notes"},
				{"URLNotHTTP", func(nr *ledger.NewRelease) { nr.URL = "javascript:alert(1)" }, "url"},
				{"URLWithoutHost", func(nr *ledger.NewRelease) { nr.URL = "https:///releases" }, "url"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					nr := ok
					tt.change(&nr)
					_, _, _, err := led.CreateRelease(ctx, nr, announceRelease)
					wantInvalid(t, err, tt.wantField)
				})
			}
			t.Run("NotesTooLong", func(t *testing.T) {
				nr := ok
				nr.Notes = strings.Repeat("x", markdown.MaxBytes+1)
				_, _, _, err := led.CreateRelease(ctx, nr, announceRelease)
				if f, ok := fault.As(err); !ok || f.Kind != fault.KindTooLarge || f.Field != "notes" {
					t.Fatalf("err = %v, want notes too large", err)
				}
			})
			list, err := led.List(ctx, ledger.Filter{})
			if err != nil || len(list.Items) != 0 {
				t.Errorf("List = %v, %v; want nothing created", list.Items, err)
			}
		})
	})
}
