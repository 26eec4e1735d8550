package web_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/web"
)

type testBundle struct {
	db  *db.DB
	now time.Time
	mu  sync.Mutex
}

func (b *testBundle) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

func (b *testBundle) add(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
}

func TestSessions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		setup := func(t *testing.T) (*web.Sessions, *testBundle) {
			d, err := db.Open(context.Background(), database.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			if err := d.Migrate(context.Background(), slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			b := &testBundle{db: d, now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
			return web.NewSessions(d, web.RealmPortal, 15*time.Minute, time.Hour, b.clock), b
		}
		ctx := context.Background()

		t.Run("StoresOnlyHashes", func(t *testing.T) {
			s, b := setup(t)
			link, _ := s.CreateLink(ctx, "ann@acme.test")
			token, _, err := s.SignIn(ctx, link)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.Get(ctx, b.db, &n, `SELECT (SELECT COUNT(*) FROM signin_links WHERE hash IN (?, ?)) + (SELECT COUNT(*) FROM web_sessions WHERE hash IN (?, ?))`,
				link, token, link, token); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("a raw token is stored")
			}
		})

		t.Run("LinkSignsInOnceEvenConcurrently", func(t *testing.T) {
			s, _ := setup(t)
			link, _ := s.CreateLink(ctx, "ann@acme.test")
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok := 0
			for range 8 {
				wg.Go(func() {
					if _, _, err := s.SignIn(ctx, link); err == nil {
						mu.Lock()
						ok++
						mu.Unlock()
					} else if !errors.Is(err, web.ErrNoSession) {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if ok != 1 {
				t.Errorf("%d sign-ins with one link", ok)
			}
		})

		t.Run("LinkExpires", func(t *testing.T) {
			s, b := setup(t)
			link, _ := s.CreateLink(ctx, "ann@acme.test")
			b.add(15 * time.Minute)
			if _, err := s.PeekLink(ctx, link); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("peek after the TTL: %v", err)
			}
			if _, _, err := s.SignIn(ctx, link); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("sign in after the TTL: %v", err)
			}
		})

		t.Run("IdleTimeoutAndEndAll", func(t *testing.T) {
			s, b := setup(t)
			link, _ := s.CreateLink(ctx, "ann@acme.test")
			token, _, _ := s.SignIn(ctx, link)
			b.add(59 * time.Minute)
			if sess, err := s.Lookup(ctx, token); err != nil || sess.Subject != "ann@acme.test" {
				t.Fatalf("lookup within the hour: %+v %v", sess, err)
			}
			b.add(59 * time.Minute) // the lookup above renewed it
			if _, err := s.Lookup(ctx, token); err != nil {
				t.Fatalf("lookup 59m after the last: %v", err)
			}
			b.add(time.Hour)
			if _, err := s.Lookup(ctx, token); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("lookup after an idle hour: %v", err)
			}
			link, _ = s.CreateLink(ctx, "ann@acme.test")
			token, _, _ = s.SignIn(ctx, link)
			pending, _ := s.CreateLink(ctx, "ann@acme.test")
			if err := s.EndAll(ctx, "ann@acme.test"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Lookup(ctx, token); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("a session outlived EndAll: %v", err)
			}
			if _, err := s.PeekLink(ctx, pending); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("a link outlived EndAll: %v", err)
			}
		})

		// A portal link names a contact's address; were it good in the
		// console, a contact who shares an address with staff (or a
		// forwarded portal mail) would open the console.
		t.Run("LinkOpensOnlyItsRealm", func(t *testing.T) {
			portal, b := setup(t)
			console := web.NewSessions(b.db, web.RealmConsole, 15*time.Minute, time.Hour, b.clock)
			link, _ := portal.CreateLink(ctx, "ann@acme.test")
			if _, err := console.PeekLink(ctx, link); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("console peeks a portal link: %v", err)
			}
			if _, _, err := console.SignIn(ctx, link); !errors.Is(err, web.ErrNoSession) {
				t.Errorf("a portal link signs in to the console: %v", err)
			}
			if err := console.EndAll(ctx, "ann@acme.test"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := portal.SignIn(ctx, link); err != nil {
				t.Errorf("the console's EndAll ended a portal link, or the link broke: %v", err)
			}
		})
	})
}
