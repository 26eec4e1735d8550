package contacts_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
)

// portalBundle is a store with three licenses:
//
//	SEN-1: technical ann@acme.test (main), bob@acme.test, dee@acme.test,
//	       cy@other.test, pat@gmail.com; billing bill@acme.test (main)
//	SEN-2: technical zed@else.test (main), named Zed
//	SEN-3: technical joe@gmail.com (main), jan@gmail.com
type portalBundle struct {
	store  *contacts.Store
	portal *contacts.Portal
}

func newPortal(t *testing.T, database dbtest.Database) *portalBundle {
	t.Helper()
	ctx := context.Background()
	store, _ := newStore(t, database)
	tech := func(email string) contacts.NewMember { return contacts.NewMember{Email: email, Role: contacts.Technical} }
	for _, nl := range []contacts.NewLicense{
		{ID: "SEN-1", Product: "jira", Name: "Acme", Contacts: []contacts.NewMember{
			tech("ann@acme.test"), tech("bob@acme.test"), tech("dee@acme.test"), tech("cy@other.test"), tech("pat@gmail.com"),
			{Email: "bill@acme.test", Role: contacts.Billing},
		}},
		{ID: "SEN-2", Product: "jira", Name: "Else", Contacts: []contacts.NewMember{{Email: "zed@else.test", Name: "Zed", Role: contacts.Technical}}},
		{ID: "SEN-3", Product: "jira", Name: "Freemail", Contacts: []contacts.NewMember{tech("joe@gmail.com"), tech("jan@gmail.com")}},
	} {
		if _, err := store.CreateLicense(ctx, staff, nl); err != nil {
			t.Fatal(err)
		}
	}
	return &portalBundle{store: store, portal: store.Portal([]string{"Corp-Mail.example"})}
}

// outcome is what a portal change should do: succeed, or fail with an
// error of a kind whose message says why.
type outcome struct {
	kind    error // nil: success
	message string
}

func checkOutcome(t *testing.T, err error, want outcome) {
	t.Helper()
	switch {
	case want.kind == nil && err != nil:
		t.Fatalf("err = %v, want success", err)
	case want.kind != nil && !errors.Is(err, want.kind):
		t.Fatalf("err = %v, want %v", err, want.kind)
	case want.kind != nil && !strings.Contains(err.Error(), want.message):
		t.Fatalf("err = %v, want it to say %q", err, want.message)
	}
}

var (
	ok          = outcome{}
	notYours    = outcome{contacts.ErrNotFound, "you are not a contact of a license"}
	mustSignIn  = func(email string) outcome { return outcome{contacts.ErrForbidden, email + " must sign in and make themselves main"} }
	onlySelf    = func(email string) outcome { return outcome{contacts.ErrForbidden, "only " + email + " can remove themselves"} }
	lastContact = outcome{contacts.ErrConflict, "is the only"}
)

func TestPortalPromote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		for _, tc := range []struct {
			name, by, license, email string
			role                     contacts.Role
			want                     outcome
			wantMain                 string
		}{
			{"SameCompanyDomain", "ann@acme.test", "SEN-1", "bob@acme.test", contacts.Technical, ok, "bob@acme.test"},
			{"AnyContactMaySameDomain", "bob@acme.test", "SEN-1", "dee@acme.test", contacts.Technical, ok, "dee@acme.test"},
			{"ABillingContactMay", "bill@acme.test", "SEN-1", "bob@acme.test", contacts.Technical, ok, "bob@acme.test"},
			{"DomainIsCaseInsensitive", "ann@acme.test", "SEN-1", "BOB@Acme.Test", contacts.Technical, ok, "bob@acme.test"},
			{"OtherDomainMustSignIn", "ann@acme.test", "SEN-1", "cy@other.test", contacts.Technical, mustSignIn("cy@other.test"), "ann@acme.test"},
			{"PublicDomainMustSignIn", "ann@acme.test", "SEN-1", "pat@gmail.com", contacts.Technical, mustSignIn("pat@gmail.com"), "ann@acme.test"},
			{"SamePublicDomainMustSignIn", "joe@gmail.com", "SEN-3", "jan@gmail.com", contacts.Technical, mustSignIn("jan@gmail.com"), "joe@gmail.com"},
			{"SelfFromOtherDomain", "cy@other.test", "SEN-1", "cy@other.test", contacts.Technical, ok, "cy@other.test"},
			{"SelfFromPublicDomain", "pat@gmail.com", "SEN-1", "pat@gmail.com", contacts.Technical, ok, "pat@gmail.com"},
			{"SelfAsNobodyElseCan", "jan@gmail.com", "SEN-3", "jan@gmail.com", contacts.Technical, ok, "jan@gmail.com"},
			{"TheMainAlready", "bob@acme.test", "SEN-1", "ann@acme.test", contacts.Technical, ok, "ann@acme.test"},
			{"NotAContactOfTheLicense", "zed@else.test", "SEN-1", "bob@acme.test", contacts.Technical, notYours, "ann@acme.test"},
			{"NoSuchLicense", "ann@acme.test", "SEN-404", "bob@acme.test", contacts.Technical, notYours, ""},
			{"NotInTheRole", "ann@acme.test", "SEN-1", "bob@acme.test", contacts.Billing, outcome{contacts.ErrNotFound, "is not a billing contact"}, "ann@acme.test"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := newPortal(t, database)
				if tc.license == "SEN-1" {
					before, err := b.store.GetLicense(ctx, tc.license)
					if err != nil {
						t.Fatal(err)
					}
					// What the page shows agrees with what the change does.
					if target, found := findMember(before.Members(tc.role), tc.email); found {
						checkOutcome(t, b.portal.CanPromote(before, tc.by, target, tc.role), tc.want)
					}
				}
				_, err := b.portal.Promote(ctx, tc.by, tc.license, tc.email, tc.role)
				checkOutcome(t, err, tc.want)
				if tc.wantMain == "" {
					return
				}
				l, err := b.store.GetLicense(ctx, tc.license)
				if err != nil {
					t.Fatal(err)
				}
				if got := mains(t, l)[contacts.Technical]; got != tc.wantMain {
					t.Errorf("main technical contact = %s, want %s", got, tc.wantMain)
				}
			})
		}
	})
}

func TestPortalRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		for _, tc := range []struct {
			name, by, license, email string
			role                     contacts.Role
			// before runs first, as the staff would.
			before func(b *portalBundle) error
			want   outcome
		}{
			{name: "AnOrdinaryContact", by: "bob@acme.test", license: "SEN-1", email: "cy@other.test", role: contacts.Technical, want: ok},
			{name: "Themselves", by: "cy@other.test", license: "SEN-1", email: "cy@other.test", role: contacts.Technical, want: ok},
			{name: "TheMainByAnother", by: "bob@acme.test", license: "SEN-1", email: "ann@acme.test", role: contacts.Technical, want: onlySelf("ann@acme.test")},
			{name: "TheMainByThemselves", by: "ann@acme.test", license: "SEN-1", email: "ann@acme.test", role: contacts.Technical,
				want: outcome{contacts.ErrConflict, "make another technical contact main first"}},
			{name: "TheFormerMainOnceAnotherIsMain", by: "ann@acme.test", license: "SEN-1", email: "ann@acme.test", role: contacts.Technical,
				before: func(b *portalBundle) error {
					_, err := b.portal.Promote(ctx, "ann@acme.test", "SEN-1", "bob@acme.test", contacts.Technical)
					return err
				}, want: ok},
			{name: "TheLastContactByThemselves", by: "bill@acme.test", license: "SEN-1", email: "bill@acme.test", role: contacts.Billing, want: lastContact},
			{name: "TheLastContactByAnother", by: "ann@acme.test", license: "SEN-1", email: "bill@acme.test", role: contacts.Billing, want: lastContact},
			{name: "NotAContactOfTheLicense", by: "zed@else.test", license: "SEN-1", email: "cy@other.test", role: contacts.Technical, want: notYours},
			{name: "NoSuchLicense", by: "zed@else.test", license: "SEN-404", email: "zed@else.test", role: contacts.Technical, want: notYours},
			{name: "NotAContact", by: "ann@acme.test", license: "SEN-1", email: "zed@else.test", role: contacts.Technical,
				want: outcome{contacts.ErrNotFound, "is not a technical contact"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := newPortal(t, database)
				if tc.before != nil {
					if err := tc.before(b); err != nil {
						t.Fatal(err)
					}
				}
				before, beforeErr := b.store.GetLicense(ctx, tc.license)
				target, found := findMember(before.Members(tc.role), tc.email)
				if beforeErr == nil && found {
					checkOutcome(t, b.portal.CanRemove(before, tc.by, target, tc.role), tc.want)
				}
				_, err := b.portal.Remove(ctx, tc.by, tc.license, tc.email, tc.role)
				checkOutcome(t, err, tc.want)
				if beforeErr != nil || !found {
					return
				}
				after, err := b.store.GetLicense(ctx, tc.license)
				if err != nil {
					t.Fatal(err)
				}
				_, still := findMember(after.Members(tc.role), tc.email)
				if removed := !still; removed != (tc.want.kind == nil) {
					t.Errorf("%s removed = %v, want %v", tc.email, removed, tc.want.kind == nil)
				}
				mains(t, after)
			})
		}
	})
}

func TestPortalAdd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("ANewPerson", func(t *testing.T) {
			b := newPortal(t, database)
			l, err := b.portal.Add(ctx, "ann@acme.test", "SEN-1", contacts.NewMember{Email: "Eve@Acme.test", Name: "Eve", Role: contacts.Billing})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"bill@acme.test", "eve@acme.test"}, emails(l.Billing)); diff != "" {
				t.Errorf("billing (-want +got):\n%s", diff)
			}
			c, err := b.store.GetContact(ctx, "eve@acme.test")
			if err != nil || c.Name != "Eve" {
				t.Errorf("contact = %+v, %v; want Eve", c, err)
			}
		})

		// The bug this fixes: a customer adding a person who exists
		// renamed them everywhere, for every license they are a contact of.
		t.Run("AnExistingPersonIsNeverChanged", func(t *testing.T) {
			b := newPortal(t, database)
			before, err := b.store.GetContact(ctx, "zed@else.test")
			if err != nil {
				t.Fatal(err)
			}
			l, err := b.portal.Add(ctx, "ann@acme.test", "SEN-1", contacts.NewMember{Email: "zed@else.test", Name: "Hijacked", Role: contacts.Billing})
			if err != nil {
				t.Fatal(err)
			}
			if m, found := find(l.Billing, "zed@else.test"); !found || m.Name != "Zed" {
				t.Errorf("member = %+v, want Zed added under his own name", m)
			}
			after, err := b.store.GetContact(ctx, "zed@else.test")
			if err != nil {
				t.Fatal(err)
			}
			if after.Name != before.Name || after.Locale != before.Locale || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("person changed: %+v, was %+v", after, before)
			}
			// Staff still rename, as they always have.
			if _, err := b.store.AddMember(ctx, staff, "SEN-3", contacts.NewMember{Email: "zed@else.test", Name: "Zed Z.", Role: contacts.Billing}); err != nil {
				t.Fatal(err)
			}
			if c, _ := b.store.GetContact(ctx, "zed@else.test"); c.Name != "Zed Z." {
				t.Errorf("staff add: name %q, want Zed Z.", c.Name)
			}
		})

		for _, tc := range []struct {
			name, by, license string
			m                 contacts.NewMember
			want              outcome
		}{
			{"NotAContactOfTheLicense", "zed@else.test", "SEN-1", contacts.NewMember{Email: "x@else.test", Role: contacts.Technical}, notYours},
			{"NoSuchLicense", "ann@acme.test", "SEN-404", contacts.NewMember{Email: "x@acme.test", Role: contacts.Technical}, notYours},
			{"AlreadyAContact", "ann@acme.test", "SEN-1", contacts.NewMember{Email: "bob@acme.test", Role: contacts.Technical},
				outcome{contacts.ErrConflict, "already a technical contact"}},
			{"AsMainFromTheSameDomain", "bob@acme.test", "SEN-1", contacts.NewMember{Email: "new@acme.test", Role: contacts.Technical, Main: true}, ok},
			{"AsMainFromAnotherDomain", "ann@acme.test", "SEN-1", contacts.NewMember{Email: "new@other.test", Role: contacts.Technical, Main: true},
				mustSignIn("new@other.test")},
			{"AsMainFromAnExtraPublicDomain", "ann@acme.test", "SEN-1", contacts.NewMember{Email: "new@corp-mail.example", Role: contacts.Technical, Main: true},
				mustSignIn("new@corp-mail.example")},
			{"BadAddress", "ann@acme.test", "SEN-1", contacts.NewMember{Email: "not an address", Role: contacts.Technical},
				outcome{contacts.ErrInvalid, "email"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := newPortal(t, database)
				before, _ := b.store.GetLicense(ctx, "SEN-1")
				_, err := b.portal.Add(ctx, tc.by, tc.license, tc.m)
				checkOutcome(t, err, tc.want)
				if tc.want.kind != nil {
					after, _ := b.store.GetLicense(ctx, "SEN-1")
					if diff := cmp.Diff(before, after); diff != "" {
						t.Errorf("a refused add changed SEN-1 (-before +after):\n%s", diff)
					}
				}
			})
		}
	})
}

func TestPortalLicenses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := newPortal(t, database)
		if _, err := b.store.AddMember(ctx, staff, "SEN-2", contacts.NewMember{Email: "ann@acme.test", Role: contacts.Billing}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			email string
			want  []string
		}{
			{"ann@acme.test", []string{"SEN-1", "SEN-2"}},
			{"ANN@acme.test", []string{"SEN-1", "SEN-2"}},
			{"jan@gmail.com", []string{"SEN-3"}},
			{"nobody@acme.test", []string{}},
		} {
			ls, err := b.portal.Licenses(ctx, tc.email)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, l := range ls {
				got = append(got, l.ID)
				mains(t, l)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("licenses of %s (-want +got):\n%s", tc.email, diff)
			}
		}
	})
}

// TestPortalRulesHoldConcurrently races a promotion against a removal of
// the same contact: whichever runs second sees what the first did, under
// the license's lock, so exactly one of them succeeds and the license
// keeps one main contact.
func TestPortalRulesHoldConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		for i := range 5 {
			b := newPortal(t, database)
			var (
				wg         sync.WaitGroup
				promoteErr error
				removeErr  error
			)
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, promoteErr = b.portal.Promote(ctx, "ann@acme.test", "SEN-1", "bob@acme.test", contacts.Technical)
			}()
			go func() {
				defer wg.Done()
				_, removeErr = b.portal.Remove(ctx, "dee@acme.test", "SEN-1", "bob@acme.test", contacts.Technical)
			}()
			wg.Wait()
			if (promoteErr == nil) == (removeErr == nil) {
				t.Fatalf("run %d: promote: %v, remove: %v; want exactly one to succeed", i, promoteErr, removeErr)
			}
			l, err := b.store.GetLicense(ctx, "SEN-1")
			if err != nil {
				t.Fatal(err)
			}
			_, bobThere := findMember(l.Technical, "bob@acme.test")
			if promoteErr == nil && (!bobThere || mains(t, l)[contacts.Technical] != "bob@acme.test") {
				t.Errorf("run %d: the promotion won but bob is not main: %+v", i, l.Technical)
			}
			if removeErr == nil && bobThere {
				t.Errorf("run %d: the removal won but bob is still a contact", i)
			}
		}
	})
}

func findMember(members []contacts.Member, email string) (string, bool) {
	m, found := find(members, email)
	return m.Email, found
}

func find(members []contacts.Member, email string) (contacts.Member, bool) {
	for _, m := range members {
		if strings.EqualFold(m.Email, email) {
			return m, true
		}
	}
	return contacts.Member{}, false
}
