package contacts_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/pagetest"
)

type testBundle struct {
	db  *db.DB
	now time.Time
}

func newStore(t *testing.T, database dbtest.Database) (*contacts.Store, *testBundle) {
	t.Helper()
	bundle := &testBundle{db: database.Open(t), now: time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)}
	return contacts.NewStore(bundle.db, func() time.Time { return bundle.now }), bundle
}

// mains returns the main contact of each role, and fails the test if a role
// with contacts has none or several: the invariant every test checks.
func mains(t *testing.T, l contacts.License) map[contacts.Role]string {
	t.Helper()
	out := make(map[contacts.Role]string)
	for _, r := range contacts.Roles {
		n := 0
		for _, m := range l.Members(r) {
			if m.Main {
				n++
				out[r] = m.Email
			}
		}
		if len(l.Members(r)) > 0 && n != 1 {
			t.Fatalf("%s has %d main %s contacts, want exactly 1: %+v", l.ID, n, r, l.Members(r))
		}
	}
	return out
}

func emails(ms []contacts.Member) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Email)
	}
	return out
}

func TestMainContactRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		setup := func(t *testing.T, members ...contacts.NewMember) (*contacts.Store, contacts.License) {
			t.Helper()
			store, _ := newStore(t, database)
			l, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme Corp", Contacts: members})
			if err != nil {
				t.Fatalf("CreateLicense: %v", err)
			}
			return store, l
		}
		tech := func(email string) contacts.NewMember {
			return contacts.NewMember{Email: email, Role: contacts.Technical}
		}
		billing := func(email string) contacts.NewMember {
			return contacts.NewMember{Email: email, Role: contacts.Billing}
		}

		t.Run("FirstContactOfARoleBecomesMain", func(t *testing.T) {
			store, l := setup(t)
			for _, m := range []contacts.NewMember{tech("a@acme.test"), tech("b@acme.test"), billing("c@acme.test")} {
				var err error
				if l, err = store.AddMember(ctx, staff, "SEN-1", m); err != nil {
					t.Fatalf("AddMember %s: %v", m.Email, err)
				}
			}
			want := map[contacts.Role]string{contacts.Technical: "a@acme.test", contacts.Billing: "c@acme.test"}
			if diff := cmp.Diff(want, mains(t, l)); diff != "" {
				t.Errorf("mains (-want +got):\n%s", diff)
			}
		})

		t.Run("AddingWithMainPromotesAndDemotesThePrevious", func(t *testing.T) {
			store, _ := setup(t, tech("a@acme.test"))
			l, err := store.AddMember(ctx, staff, "SEN-1", contacts.NewMember{Email: "b@acme.test", Role: contacts.Technical, Main: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := mains(t, l)[contacts.Technical]; got != "b@acme.test" {
				t.Errorf("main technical = %s, want b@acme.test", got)
			}
		})

		t.Run("CreateHonoursMainOnALaterContact", func(t *testing.T) {
			_, l := setup(t, tech("a@acme.test"), contacts.NewMember{Email: "b@acme.test", Role: contacts.Technical, Main: true})
			if got := mains(t, l)[contacts.Technical]; got != "b@acme.test" {
				t.Errorf("main technical = %s, want b@acme.test", got)
			}
		})

		t.Run("PromoteSwapsMain", func(t *testing.T) {
			store, _ := setup(t, tech("a@acme.test"), tech("b@acme.test"))
			l, err := store.Promote(ctx, staff, "SEN-1", "B@acme.test", contacts.Technical)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]contacts.Member{
				{Email: "b@acme.test", Main: true}, {Email: "a@acme.test", Main: false},
			}, l.Technical, ignoreAddedAt); diff != "" {
				t.Errorf("technical contacts (-want +got):\n%s", diff)
			}
		})

		t.Run("PromoteTheMainChangesNothing", func(t *testing.T) {
			store, _ := setup(t, tech("a@acme.test"), tech("b@acme.test"))
			l, err := store.Promote(ctx, staff, "SEN-1", "a@acme.test", contacts.Technical)
			if err != nil {
				t.Fatal(err)
			}
			if got := mains(t, l)[contacts.Technical]; got != "a@acme.test" {
				t.Errorf("main technical = %s, want a@acme.test", got)
			}
		})

		t.Run("RemoveAnOrdinaryContact", func(t *testing.T) {
			store, _ := setup(t, tech("a@acme.test"), tech("b@acme.test"))
			l, err := store.RemoveMember(ctx, staff, "SEN-1", "b@acme.test", contacts.Technical)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"a@acme.test"}, emails(l.Technical)); diff != "" {
				t.Errorf("technical contacts (-want +got):\n%s", diff)
			}
		})

		for _, tc := range []struct {
			name    string
			members []contacts.NewMember
			remove  string
			role    contacts.Role
			want    error
		}{
			{"RemoveMainWithOthersIsConflict", []contacts.NewMember{tech("a@acme.test"), tech("b@acme.test")}, "a@acme.test", contacts.Technical, contacts.ErrConflict},
			{"RemoveLastOfRoleIsConflict", []contacts.NewMember{tech("a@acme.test"), billing("b@acme.test")}, "b@acme.test", contacts.Billing, contacts.ErrConflict},
			{"RemoveUnknownIsNotFound", []contacts.NewMember{tech("a@acme.test")}, "x@acme.test", contacts.Technical, contacts.ErrNotFound},
			{"RemoveWrongRoleIsNotFound", []contacts.NewMember{tech("a@acme.test"), tech("b@acme.test")}, "b@acme.test", contacts.Billing, contacts.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				store, before := setup(t, tc.members...)
				_, err := store.RemoveMember(ctx, staff, "SEN-1", tc.remove, tc.role)
				if !errors.Is(err, tc.want) {
					t.Fatalf("RemoveMember = %v, want %v", err, tc.want)
				}
				after, err := store.GetLicense(ctx, "SEN-1")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(before.Technical, after.Technical); diff != "" {
					t.Errorf("technical contacts changed (-before +after):\n%s", diff)
				}
				if diff := cmp.Diff(before.Billing, after.Billing); diff != "" {
					t.Errorf("billing contacts changed (-before +after):\n%s", diff)
				}
			})
		}

		t.Run("RemoveMainAfterPromotingAnother", func(t *testing.T) {
			store, _ := setup(t, tech("a@acme.test"), tech("b@acme.test"))
			if _, err := store.Promote(ctx, staff, "SEN-1", "b@acme.test", contacts.Technical); err != nil {
				t.Fatal(err)
			}
			l, err := store.RemoveMember(ctx, staff, "SEN-1", "a@acme.test", contacts.Technical)
			if err != nil {
				t.Fatal(err)
			}
			if got := mains(t, l)[contacts.Technical]; got != "b@acme.test" {
				t.Errorf("main technical = %s, want b@acme.test", got)
			}
		})

		t.Run("SamePersonInBothRoles", func(t *testing.T) {
			store, l := setup(t, tech("a@acme.test"), billing("a@acme.test"), tech("b@acme.test"), billing("b@acme.test"))
			want := map[contacts.Role]string{contacts.Technical: "a@acme.test", contacts.Billing: "a@acme.test"}
			if diff := cmp.Diff(want, mains(t, l)); diff != "" {
				t.Errorf("mains (-want +got):\n%s", diff)
			}
			// Promoting in one role leaves the other alone.
			l, err := store.Promote(ctx, staff, "SEN-1", "b@acme.test", contacts.Billing)
			if err != nil {
				t.Fatal(err)
			}
			want = map[contacts.Role]string{contacts.Technical: "a@acme.test", contacts.Billing: "b@acme.test"}
			if diff := cmp.Diff(want, mains(t, l)); diff != "" {
				t.Errorf("mains after promote (-want +got):\n%s", diff)
			}
			// Without a role, a person with both roles is ambiguous.
			if _, err := store.RemoveMember(ctx, staff, "SEN-1", "a@acme.test", ""); !errors.Is(err, fault.Invalid("role", "")) {
				t.Errorf("RemoveMember without role = %v, want invalid role", err)
			}
			c, err := store.GetContact(ctx, "a@acme.test")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]contacts.Membership{
				{LicenseID: "SEN-1", Product: "jira", Role: contacts.Billing, Main: false},
				{LicenseID: "SEN-1", Product: "jira", Role: contacts.Technical, Main: true},
			}, c.Memberships); diff != "" {
				t.Errorf("memberships (-want +got):\n%s", diff)
			}
		})

		t.Run("RoleIsInferredWhenThePersonHoldsOne", func(t *testing.T) {
			store, _ := setup(t, billing("a@acme.test"), billing("b@acme.test"))
			l, err := store.Promote(ctx, staff, "SEN-1", "b@acme.test", "")
			if err != nil {
				t.Fatal(err)
			}
			if got := mains(t, l)[contacts.Billing]; got != "b@acme.test" {
				t.Errorf("main billing = %s, want b@acme.test", got)
			}
		})

		t.Run("SamePersonOnManyLicenses", func(t *testing.T) {
			store, _ := setup(t, tech("a@acme.test"))
			for _, id := range []string{"SEN-2", "SEN-3"} {
				_, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: id, Product: "confluence", Name: "Acme " + id,
					Contacts: []contacts.NewMember{tech("x@acme.test"), tech("a@acme.test")}})
				if err != nil {
					t.Fatal(err)
				}
			}
			c, err := store.GetContact(ctx, "a@acme.test")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]contacts.Membership{
				{LicenseID: "SEN-1", Product: "jira", Role: contacts.Technical, Main: true},
				{LicenseID: "SEN-2", Product: "confluence", Role: contacts.Technical, Main: false},
				{LicenseID: "SEN-3", Product: "confluence", Role: contacts.Technical, Main: false},
			}, c.Memberships); diff != "" {
				t.Errorf("memberships (-want +got):\n%s", diff)
			}
			// Promoting on one license does not touch the others.
			if _, err := store.Promote(ctx, staff, "SEN-2", "a@acme.test", contacts.Technical); err != nil {
				t.Fatal(err)
			}
			l3, err := store.GetLicense(ctx, "SEN-3")
			if err != nil {
				t.Fatal(err)
			}
			if got := mains(t, l3)[contacts.Technical]; got != "x@acme.test" {
				t.Errorf("main technical of SEN-3 = %s, want x@acme.test", got)
			}
		})

		t.Run("AddingTheSameRoleTwiceIsConflict", func(t *testing.T) {
			store, _ := setup(t, tech("a@acme.test"))
			_, err := store.AddMember(ctx, staff, "SEN-1", tech("A@Acme.test"))
			if !errors.Is(err, contacts.ErrConflict) {
				t.Fatalf("AddMember = %v, want conflict", err)
			}
		})

		t.Run("TheDatabaseRefusesASecondMain", func(t *testing.T) {
			// The partial unique index holds even when code goes around the Store.
			_, bundle := newStore(t, database)
			store := contacts.NewStore(bundle.db, time.Now)
			if _, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme",
				Contacts: []contacts.NewMember{tech("a@acme.test"), tech("b@acme.test")}}); err != nil {
				t.Fatal(err)
			}
			_, err := db.Exec(ctx, bundle.db, `UPDATE memberships SET is_main = TRUE WHERE email = ?`, "b@acme.test")
			if !db.IsUniqueViolation(err) {
				t.Fatalf("setting a second main = %v, want a unique violation", err)
			}
		})
	})
}

func TestLicenses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("CreateNormalizesAndReadsBack", func(t *testing.T) {
			store, bundle := newStore(t, database)
			got, err := store.CreateLicense(ctx, staff, contacts.NewLicense{
				ID: "SEN-1234", Product: " Jira ", Name: " Acme Corp ", Timezone: "Europe/Berlin",
				Contacts: []contacts.NewMember{{Email: "Ann@Acme.TEST", Name: "Ann", Role: contacts.Technical}},
			})
			if err != nil {
				t.Fatal(err)
			}
			want := contacts.License{
				ID: "SEN-1234", Product: "jira", Name: "Acme Corp", Status: contacts.Active, Timezone: "Europe/Berlin",
				Technical: []contacts.Member{{Email: "ann@acme.test", Name: "Ann", Main: true, AddedAt: bundle.now}},
				Billing:   []contacts.Member{},
				CreatedAt: bundle.now, UpdatedAt: bundle.now,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("license (-want +got):\n%s", diff)
			}
			again, err := store.GetLicense(ctx, "SEN-1234")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("read back (-created +read):\n%s", diff)
			}
		})

		t.Run("DuplicateIDIsConflict", func(t *testing.T) {
			store, _ := newStore(t, database)
			nl := contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme"}
			if _, err := store.CreateLicense(ctx, staff, nl); err != nil {
				t.Fatal(err)
			}
			if _, err := store.CreateLicense(ctx, staff, nl); !errors.Is(err, contacts.ErrConflict) {
				t.Fatalf("second CreateLicense = %v, want conflict", err)
			}
		})

		t.Run("InvalidInputNamesTheField", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				nl    contacts.NewLicense
				field string
			}{
				{"MissingID", contacts.NewLicense{Product: "jira", Name: "Acme"}, "id"},
				{"IDWithSlash", contacts.NewLicense{ID: "a/b", Product: "jira", Name: "Acme"}, "id"},
				{"MissingProduct", contacts.NewLicense{ID: "S-1", Name: "Acme"}, "product"},
				{"NameWithCRLF", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme\r\nBcc: x@evil.test"}, "name"},
				{"BadStatus", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme", Status: "gone"}, "status"},
				{"BadTimezone", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme", Timezone: "Mars/Olympus"}, "timezone"},
				{"BadEmail", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme",
					Contacts: []contacts.NewMember{{Email: "not-an-email", Role: contacts.Technical}}}, "contacts[0].email"},
				{"DisplayNameInEmail", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme",
					Contacts: []contacts.NewMember{{Email: "Ann <a@acme.test>", Role: contacts.Technical}}}, "contacts[0].email"},
				{"ContactNameWithLF", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme",
					Contacts: []contacts.NewMember{{Email: "a@acme.test", Name: "Ann\nSubject: hi", Role: contacts.Technical}}}, "contacts[0].name"},
				{"BadRole", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme",
					Contacts: []contacts.NewMember{{Email: "a@acme.test", Role: "owner"}}}, "contacts[0].role"},
				{"TwoMains", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme",
					Contacts: []contacts.NewMember{{Email: "a@acme.test", Role: contacts.Technical, Main: true}, {Email: "b@acme.test", Role: contacts.Technical, Main: true}}}, "contacts[1].main"},
				{"Duplicate", contacts.NewLicense{ID: "S-1", Product: "jira", Name: "Acme",
					Contacts: []contacts.NewMember{{Email: "a@acme.test", Role: contacts.Technical}, {Email: "A@acme.test", Role: contacts.Technical}}}, "contacts[1].email"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					store, _ := newStore(t, database)
					_, err := store.CreateLicense(ctx, staff, tc.nl)
					f, ok := fault.As(err)
					if !ok || f.Kind != fault.KindInvalid || f.Field != tc.field {
						t.Fatalf("CreateLicense = %v, want invalid %s", err, tc.field)
					}
					page, err := store.ListLicenses(ctx, contacts.LicenseFilter{})
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Items) != 0 {
						t.Errorf("a license was stored: %+v", page.Items)
					}
				})
			}
		})

		t.Run("UpdateChangesOnlyWhatIsGiven", func(t *testing.T) {
			store, bundle := newStore(t, database)
			if _, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme"}); err != nil {
				t.Fatal(err)
			}
			bundle.now = bundle.now.Add(time.Hour)
			status := contacts.Expired
			l, err := store.UpdateLicense(ctx, staff, "SEN-1", contacts.LicensePatch{Status: &status})
			if err != nil {
				t.Fatal(err)
			}
			if l.Status != contacts.Expired || l.Name != "Acme" || l.Product != "jira" || !l.UpdatedAt.Equal(bundle.now) {
				t.Errorf("after update: %+v", l)
			}
			// The change is audited under who made it, in words; an
			// update that changes nothing is not.
			if _, err := store.UpdateLicense(ctx, staff, "SEN-1", contacts.LicensePatch{Status: &status}); err != nil {
				t.Fatal(err)
			}
			log, err := store.ListAudit(ctx, contacts.AuditFilter{LicenseID: "SEN-1"})
			if err != nil {
				t.Fatal(err)
			}
			if len(log.Items) != 1 || log.Items[0].Action != contacts.LicenseUpdated || log.Items[0].Detail != "status: active → expired" || log.Items[0].By != staff {
				t.Errorf("audit log after the update: %+v", log.Items)
			}
			bad := "Nowhere/Land"
			if _, err := store.UpdateLicense(ctx, staff, "SEN-1", contacts.LicensePatch{Timezone: &bad}); !errors.Is(err, contacts.ErrInvalid) {
				t.Errorf("bad timezone = %v, want invalid", err)
			}
			if _, err := store.UpdateLicense(ctx, staff, "SEN-9", contacts.LicensePatch{Status: &status}); !errors.Is(err, contacts.ErrNotFound) {
				t.Errorf("unknown license = %v, want not found", err)
			}
		})

		t.Run("DeleteKeepsThePeople", func(t *testing.T) {
			store, _ := newStore(t, database)
			if _, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme",
				Contacts: []contacts.NewMember{{Email: "a@acme.test", Role: contacts.Technical}}}); err != nil {
				t.Fatal(err)
			}
			if err := store.DeleteLicense(ctx, staff, "SEN-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := store.GetLicense(ctx, "SEN-1"); !errors.Is(err, contacts.ErrNotFound) {
				t.Errorf("GetLicense after delete = %v, want not found", err)
			}
			c, err := store.GetContact(ctx, "a@acme.test")
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Memberships) != 0 {
				t.Errorf("memberships after delete: %+v", c.Memberships)
			}
			if err := store.DeleteLicense(ctx, staff, "SEN-1"); !errors.Is(err, contacts.ErrNotFound) {
				t.Errorf("second delete = %v, want not found", err)
			}
		})

		t.Run("ListFiltersAndPages", func(t *testing.T) {
			store, _ := newStore(t, database)
			for _, nl := range []contacts.NewLicense{
				{ID: "A-1", Product: "jira", Name: "Acme Corp", Contacts: []contacts.NewMember{{Email: "ann@acme.test", Role: contacts.Technical}}},
				{ID: "A-2", Product: "jira", Name: "Beta 100% Ltd", Status: contacts.Expired},
				{ID: "A-3", Product: "confluence", Name: "Gamma"},
				{ID: "A-4", Product: "jira", Name: "Delta"},
			} {
				if _, err := store.CreateLicense(ctx, staff, nl); err != nil {
					t.Fatal(err)
				}
			}
			ids := func(f contacts.LicenseFilter) []string {
				t.Helper()
				p, err := store.ListLicenses(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				out := []string{}
				for _, l := range p.Items {
					out = append(out, l.ID)
				}
				return out
			}
			for _, tc := range []struct {
				name   string
				filter contacts.LicenseFilter
				want   []string
			}{
				{"All", contacts.LicenseFilter{}, []string{"A-1", "A-2", "A-3", "A-4"}},
				{"Product", contacts.LicenseFilter{Product: "jira"}, []string{"A-1", "A-2", "A-4"}},
				{"Status", contacts.LicenseFilter{Product: "jira", Status: contacts.Expired}, []string{"A-2"}},
				{"QName", contacts.LicenseFilter{Q: "GAMMA"}, []string{"A-3"}},
				{"QContactEmail", contacts.LicenseFilter{Q: "ann@"}, []string{"A-1"}},
				{"QPercentIsLiteral", contacts.LicenseFilter{Q: "100%"}, []string{"A-2"}},
				{"QUnderscoreIsLiteral", contacts.LicenseFilter{Q: "_"}, []string{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if diff := cmp.Diff(tc.want, ids(tc.filter)); diff != "" {
						t.Errorf("ids (-want +got):\n%s", diff)
					}
				})
			}

			pages := pagetest.Walk(t, 3, func(req page.Request) (page.Page[contacts.License], error) {
				return store.ListLicenses(ctx, contacts.LicenseFilter{Page: req})
			})
			if len(pages) != 2 {
				t.Errorf("took %d pages, want 2", len(pages))
			}
			var got []string
			for _, l := range slices.Concat(pages...) {
				got = append(got, l.ID)
			}
			if diff := cmp.Diff([]string{"A-1", "A-2", "A-3", "A-4"}, got); diff != "" {
				t.Errorf("paged ids (-want +got):\n%s", diff)
			}
			for _, bad := range []page.Request{{Limit: 501}, {Limit: -1}, {After: "%%%"}} {
				if _, err := store.ListLicenses(ctx, contacts.LicenseFilter{Page: bad}); !errors.Is(err, contacts.ErrInvalid) {
					t.Errorf("ListLicenses(%+v) = %v, want invalid", bad, err)
				}
			}
		})
	})
}

func TestContacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("UpdateAndList", func(t *testing.T) {
			store, _ := newStore(t, database)
			if _, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme",
				Contacts: []contacts.NewMember{{Email: "ann@acme.test", Name: "Ann", Role: contacts.Technical}, {Email: "bob@acme.test", Name: "Bob", Role: contacts.Billing}}}); err != nil {
				t.Fatal(err)
			}
			name, locale, optOut := "Ann Smith", "pt-br", true
			c, err := store.UpdateContact(ctx, "ANN@acme.test", contacts.ContactPatch{Name: &name, Locale: &locale, ReleaseOptOut: &optOut})
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "Ann Smith" || c.Locale != "pt-BR" || !c.ReleaseOptOut {
				t.Errorf("after update: %+v", c)
			}
			bad := "not a locale!"
			if _, err := store.UpdateContact(ctx, "ann@acme.test", contacts.ContactPatch{Locale: &bad}); !errors.Is(err, contacts.ErrInvalid) {
				t.Errorf("bad locale = %v, want invalid", err)
			}
			if _, err := store.UpdateContact(ctx, "nobody@acme.test", contacts.ContactPatch{Name: &name}); !errors.Is(err, contacts.ErrNotFound) {
				t.Errorf("unknown contact = %v, want not found", err)
			}
			p, err := store.ListContacts(ctx, contacts.ContactFilter{Q: "smith"})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != 1 || p.Items[0].Email != "ann@acme.test" || len(p.Items[0].Memberships) != 1 {
				t.Errorf("ListContacts(q=smith) = %+v", p.Items)
			}
		})

		t.Run("AddingAKnownPersonWithANewNameRenamesThem", func(t *testing.T) {
			store, _ := newStore(t, database)
			if _, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme",
				Contacts: []contacts.NewMember{{Email: "ann@acme.test", Name: "Ann", Role: contacts.Technical}}}); err != nil {
				t.Fatal(err)
			}
			l, err := store.AddMember(ctx, staff, "SEN-1", contacts.NewMember{Email: "ann@acme.test", Role: contacts.Billing})
			if err != nil {
				t.Fatal(err)
			}
			if l.Billing[0].Name != "Ann" {
				t.Errorf("an empty name renamed Ann to %q", l.Billing[0].Name)
			}
			if _, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-2", Product: "jira", Name: "Acme 2",
				Contacts: []contacts.NewMember{{Email: "ann@acme.test", Name: "Ann Smith", Role: contacts.Technical}}}); err != nil {
				t.Fatal(err)
			}
			l, err = store.GetLicense(ctx, "SEN-1")
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Technical[0].Name; got != "Ann Smith" {
				t.Errorf("name on SEN-1 = %q, want the latest name given, Ann Smith", got)
			}
		})
	})
}

// ignoreAddedAt compares members by who they are and their role.
var ignoreAddedAt = cmpopts.IgnoreFields(contacts.Member{}, "AddedAt")

// staff is who the tests make changes as, unless they test who.
var staff = contacts.Actor{Via: contacts.ViaAPI, Name: "test"}
