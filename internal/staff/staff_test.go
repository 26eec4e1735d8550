package staff_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/web"
)

// by is who the tests' changes are audited under.
var by = contacts.Actor{Via: contacts.ViaCLI, Name: "test"}

type testBundle struct {
	db       *db.DB
	sessions *web.Sessions
}

// signedIn gives email a console session and returns its token.
func (b *testBundle) signedIn(t *testing.T, email string) string {
	t.Helper()
	link, err := b.sessions.CreateLink(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := b.sessions.SignIn(context.Background(), link)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func (b *testBundle) hasSession(token string) bool {
	_, err := b.sessions.Lookup(context.Background(), token)
	return err == nil
}

func TestStore(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		ctx := context.Background()
		setup := func(t *testing.T) (*staff.Store, *testBundle) {
			d, err := db.Open(ctx, database.URL(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			if err := d.Migrate(ctx, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			b := &testBundle{db: d, sessions: web.NewSessions(d, web.RealmConsole, 15*time.Minute, time.Hour, time.Now)}
			return staff.NewStore(d, b.sessions, "Europe/Berlin", time.Now), b
		}

		t.Run("AddListDefaults", func(t *testing.T) {
			s, _ := setup(t)
			if _, err := s.Add(ctx, by, " Ann@Acme.test ", staff.Admin, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Add(ctx, by, "bob@acme.test", staff.Viewer, "America/New_York"); err != nil {
				t.Fatal(err)
			}
			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 || list[0].Email != "ann@acme.test" || list[0].Timezone != "Europe/Berlin" ||
				list[1].Role != staff.Viewer || list[1].Timezone != "America/New_York" {
				t.Errorf("list = %+v", list)
			}
		})

		t.Run("BadInput", func(t *testing.T) {
			s, _ := setup(t)
			_, _ = s.Add(ctx, by, "ann@acme.test", staff.Admin, "")
			for _, tt := range []struct {
				name, email string
				role        staff.Role
				tz, field   string
				kind        fault.Kind
			}{
				{"NotAnAddress", "ann", staff.Viewer, "", "email", fault.KindInvalid},
				{"NoSuchRole", "bob@acme.test", "owner", "", "role", fault.KindInvalid},
				{"NoSuchZone", "bob@acme.test", staff.Viewer, "Mars/Olympus", "timezone", fault.KindInvalid},
				{"Twice", "ANN@acme.test", staff.Viewer, "", "", fault.KindConflict},
			} {
				t.Run(tt.name, func(t *testing.T) {
					_, err := s.Add(ctx, by, tt.email, tt.role, tt.tz)
					e, ok := fault.As(err)
					if !ok || e.Kind != tt.kind || e.Field != tt.field {
						t.Errorf("err = %v, want %s on %q", err, tt.kind, tt.field)
					}
				})
			}
			if list, _ := s.List(ctx); len(list) != 1 {
				t.Errorf("bad input changed the staff: %+v", list)
			}
		})

		t.Run("LastAdminStays", func(t *testing.T) {
			s, _ := setup(t)
			_, _ = s.Add(ctx, by, "ann@acme.test", staff.Admin, "")
			_, _ = s.Add(ctx, by, "bob@acme.test", staff.Editor, "")
			if _, err := s.Remove(ctx, by, "ann@acme.test"); !errors.Is(err, fault.ErrConflict) {
				t.Errorf("removing the last admin: %v, want a conflict", err)
			}
			if _, err := s.SetRole(ctx, by, "ann@acme.test", staff.Editor); !errors.Is(err, fault.ErrConflict) {
				t.Errorf("demoting the last admin: %v, want a conflict", err)
			}
			if m, err := s.Get(ctx, "ann@acme.test"); err != nil || m.Role != staff.Admin {
				t.Errorf("ann = %+v, %v; want still admin", m, err)
			}
			// With a second admin, either may go.
			if _, err := s.SetRole(ctx, by, "bob@acme.test", staff.Admin); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Remove(ctx, by, "ann@acme.test"); err != nil {
				t.Errorf("removing one of two admins: %v", err)
			}
			if _, err := s.Get(ctx, "ann@acme.test"); !errors.Is(err, staff.ErrNotFound) {
				t.Errorf("ann after removal: %v", err)
			}
			if _, err := s.Remove(ctx, by, "nobody@acme.test"); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("removing a stranger: %v", err)
			}
		})

		t.Run("RemovingOrLoweringEndsSessions", func(t *testing.T) {
			s, b := setup(t)
			_, _ = s.Add(ctx, by, "ann@acme.test", staff.Admin, "")
			_, _ = s.Add(ctx, by, "bob@acme.test", staff.Editor, "")
			_, _ = s.Add(ctx, by, "cat@acme.test", staff.Viewer, "")
			bob, cat := b.signedIn(t, "bob@acme.test"), b.signedIn(t, "cat@acme.test")

			if _, err := s.SetRole(ctx, by, "cat@acme.test", staff.Editor); err != nil {
				t.Fatal(err)
			}
			if !b.hasSession(cat) {
				t.Error("raising a role ended the session")
			}
			if _, err := s.SetRole(ctx, by, "bob@acme.test", staff.Viewer); err != nil {
				t.Fatal(err)
			}
			if b.hasSession(bob) {
				t.Error("lowering a role kept the session")
			}
			if _, err := s.Remove(ctx, by, "cat@acme.test"); err != nil {
				t.Fatal(err)
			}
			if b.hasSession(cat) {
				t.Error("removal kept the session")
			}
		})

		t.Run("ChangesAreAudited", func(t *testing.T) {
			s, b := setup(t)
			admin := contacts.Actor{Via: contacts.ViaConsole, Name: "ann@acme.test"}
			_, _ = s.Add(ctx, by, "ann@acme.test", staff.Admin, "")
			_, _ = s.Add(ctx, admin, "bob@acme.test", staff.Viewer, "")
			_, _ = s.SetRole(ctx, admin, "bob@acme.test", staff.Viewer) // no change: not audited
			_, _ = s.SetRole(ctx, admin, "bob@acme.test", staff.Editor)
			_, _ = s.Remove(ctx, admin, "bob@acme.test")
			_, _ = s.Remove(ctx, admin, "ann@acme.test") // refused: the last admin
			log, err := contacts.NewStore(b.db, time.Now).ListAudit(ctx, contacts.AuditFilter{Email: "bob@acme.test"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range log.Items {
				got = append(got, fmt.Sprintf("%s %s %s by %s", e.Action, e.Email, e.Detail, e.By))
			}
			want := []string{
				"staff_removed bob@acme.test role: editor by console:ann@acme.test",
				"staff_role_changed bob@acme.test role: viewer → editor by console:ann@acme.test",
				"staff_added bob@acme.test role: viewer by console:ann@acme.test",
			}
			if !slices.Equal(got, want) {
				t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			all, _ := contacts.NewStore(b.db, time.Now).ListAudit(ctx, contacts.AuditFilter{})
			if len(all.Items) != 4 {
				t.Errorf("%d entries, want 4 (a refused removal is not audited)", len(all.Items))
			}
		})
	})
}
