package contacts_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/page"
)

// notices is a Notifier that keeps what it is told, and fails when told
// to.
type notices struct {
	mu    sync.Mutex
	got   []contacts.Notice
	after int
	fail  error
}

func (n *notices) Notify(_ context.Context, _ *sqlx.Tx, notice contacts.Notice) (func(context.Context), error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return nil, n.fail
	}
	n.got = append(n.got, notice)
	return func(context.Context) { n.mu.Lock(); n.after++; n.mu.Unlock() }, nil
}

// entry is what a test compares of an audit entry: all but its id and
// time.
type entry struct {
	License, Action, Email, Role string
	Main                         bool
	PreviousMain, By             string
}

func entries(t *testing.T, store *contacts.Store, f contacts.AuditFilter) []entry {
	t.Helper()
	p, err := store.ListAudit(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	out := []entry{}
	for _, e := range p.Items {
		out = append(out, entry{e.LicenseID, string(e.Action), e.Email, string(e.Role), e.Main, e.PreviousMain, e.By.String()})
	}
	return out
}

func TestAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ops := contacts.Actor{Via: contacts.ViaAPI, Name: "ops"}
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		setup := func(t *testing.T) (*contacts.Store, *notices) {
			t.Helper()
			store, _ := newStore(t, database)
			n := &notices{}
			store.SetNotifier(n)
			if _, err := store.CreateLicense(ctx, ops, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme", Contacts: []contacts.NewMember{
				{Email: "ann@acme.test", Role: contacts.Technical}, {Email: "bill@acme.test", Role: contacts.Billing},
			}}); err != nil {
				t.Fatal(err)
			}
			return store, n
		}

		t.Run("ANewLicensesContactsAreAuditedNotAnnounced", func(t *testing.T) {
			store, n := setup(t)
			want := []entry{
				{"SEN-1", "added", "bill@acme.test", "billing", true, "", "api:ops"},
				{"SEN-1", "added", "ann@acme.test", "technical", true, "", "api:ops"},
			}
			if diff := cmp.Diff(want, entries(t, store, contacts.AuditFilter{})); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
			if len(n.got) != 0 {
				t.Errorf("notices: %+v, want none for a new license", n.got)
			}
		})

		t.Run("EveryWayIsAuditedWithWhoAndAnnounced", func(t *testing.T) {
			store, n := setup(t)
			portal := store.Portal(nil)
			steps := []func() error{
				func() error {
					_, err := store.AddMember(ctx, ops, "SEN-1", contacts.NewMember{Email: "bob@acme.test", Role: contacts.Technical})
					return err
				},
				func() error {
					_, err := portal.Promote(ctx, "ann@acme.test", "SEN-1", "bob@acme.test", contacts.Technical)
					return err
				},
				func() error {
					_, err := portal.Remove(ctx, "ann@acme.test", "SEN-1", "ann@acme.test", contacts.Technical)
					return err
				},
				func() error {
					rows, err := contacts.ReadCSV(strings.NewReader("license_id,product,license_name,email,name,role,main\nSEN-1,jira,Acme,cy@acme.test,Cy,billing,true\n"))
					if err != nil {
						return err
					}
					_, err = store.Import(ctx, contacts.Actor{Via: contacts.ViaCSV, Name: "cli:root"}, rows)
					return err
				},
			}
			for i, step := range steps {
				if err := step(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			want := []entry{
				{"SEN-1", "added", "cy@acme.test", "billing", true, "bill@acme.test", "csv:cli:root"},
				{"SEN-1", "removed", "ann@acme.test", "technical", false, "", "portal:ann@acme.test"},
				{"SEN-1", "promoted", "bob@acme.test", "technical", true, "ann@acme.test", "portal:ann@acme.test"},
				{"SEN-1", "added", "bob@acme.test", "technical", false, "", "api:ops"},
				{"SEN-1", "added", "bill@acme.test", "billing", true, "", "api:ops"},
				{"SEN-1", "added", "ann@acme.test", "technical", true, "", "api:ops"},
			}
			if diff := cmp.Diff(want, entries(t, store, contacts.AuditFilter{})); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
			// Who hears of each change: the person changed and the main
			// contacts before and after, never the person who made it.
			var told [][]string
			for _, notice := range n.got {
				told = append(told, notice.Tell)
				if notice.License.Name != "Acme" || notice.ProductName != "jira" {
					t.Errorf("notice names %+v, product %q", notice.License, notice.ProductName)
				}
			}
			wantTold := [][]string{
				{"bob@acme.test", "ann@acme.test", "bill@acme.test"}, // staff added bob
				{"bob@acme.test", "bill@acme.test"},                  // ann made bob main
				{"bill@acme.test", "bob@acme.test"},                  // ann removed herself
				{"cy@acme.test", "bill@acme.test", "bob@acme.test"},  // the import made cy main billing contact
			}
			if diff := cmp.Diff(wantTold, told); diff != "" {
				t.Errorf("told (-want +got):\n%s", diff)
			}
			if n.after != len(n.got) {
				t.Errorf("%d of %d notices were started after their commit", n.after, len(n.got))
			}
		})

		t.Run("ARefusedChangeLeavesNoTrace", func(t *testing.T) {
			store, n := setup(t)
			before := entries(t, store, contacts.AuditFilter{})
			if _, err := store.RemoveMember(ctx, ops, "SEN-1", "ann@acme.test", contacts.Technical); !errors.Is(err, contacts.ErrConflict) {
				t.Fatalf("remove the last contact: %v", err)
			}
			if _, err := store.Portal(nil).Promote(ctx, "ann@acme.test", "SEN-1", "bill@acme.test", contacts.Technical); !errors.Is(err, contacts.ErrNotFound) {
				t.Fatalf("promote a non-member: %v", err)
			}
			if diff := cmp.Diff(before, entries(t, store, contacts.AuditFilter{})); diff != "" {
				t.Errorf("audit changed (-want +got):\n%s", diff)
			}
			if len(n.got) != 0 {
				t.Errorf("notices: %+v", n.got)
			}
		})

		// The notices are stored with the change or not at all: a notifier
		// that fails undoes the change and its audit entry.
		t.Run("ANotifierThatFailsUndoesTheChange", func(t *testing.T) {
			store, n := setup(t)
			n.fail = errors.New("ledger down")
			if _, err := store.AddMember(ctx, ops, "SEN-1", contacts.NewMember{Email: "bob@acme.test", Role: contacts.Technical}); err == nil || !strings.Contains(err.Error(), "ledger down") {
				t.Fatalf("add: %v, want the notifier's error", err)
			}
			l, err := store.GetLicense(ctx, "SEN-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Technical) != 1 || len(entries(t, store, contacts.AuditFilter{Email: "bob@acme.test"})) != 0 {
				t.Errorf("the failed add left bob: %+v", l.Technical)
			}
		})

		t.Run("ADeletedLicenseKeepsItsLog", func(t *testing.T) {
			store, _ := setup(t)
			if err := store.DeleteLicense(ctx, ops, "SEN-1"); err != nil {
				t.Fatal(err)
			}
			got := entries(t, store, contacts.AuditFilter{LicenseID: "SEN-1", Via: contacts.ViaAPI})
			want := []entry{
				{"SEN-1", "removed", "ann@acme.test", "technical", false, "", "api:ops"},
				{"SEN-1", "removed", "bill@acme.test", "billing", false, "", "api:ops"},
				{"SEN-1", "added", "bill@acme.test", "billing", true, "", "api:ops"},
				{"SEN-1", "added", "ann@acme.test", "technical", true, "", "api:ops"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("audit (-want +got):\n%s", diff)
			}
		})

		t.Run("FiltersAndPages", func(t *testing.T) {
			store, _ := setup(t)
			if _, err := store.CreateLicense(ctx, ops, contacts.NewLicense{ID: "SEN-2", Product: "jira", Name: "Other", Contacts: []contacts.NewMember{
				{Email: "Ann@Acme.test", Role: contacts.Billing},
			}}); err != nil {
				t.Fatal(err)
			}
			if got := entries(t, store, contacts.AuditFilter{Email: "ANN@acme.test"}); len(got) != 2 {
				t.Errorf("entries about ann: %+v, want 2", got)
			}
			if got := entries(t, store, contacts.AuditFilter{LicenseID: "SEN-2"}); len(got) != 1 || got[0].Email != "ann@acme.test" {
				t.Errorf("entries of SEN-2: %+v", got)
			}
			if got := entries(t, store, contacts.AuditFilter{Via: contacts.ViaPortal}); len(got) != 0 {
				t.Errorf("portal entries: %+v, want none", got)
			}
			first, err := store.ListAudit(ctx, contacts.AuditFilter{Page: page.Request{Limit: 2}})
			if err != nil {
				t.Fatal(err)
			}
			rest, err := store.ListAudit(ctx, contacts.AuditFilter{Page: page.Request{Limit: 2, After: first.Next}})
			if err != nil {
				t.Fatal(err)
			}
			if len(first.Items) != 2 || len(rest.Items) != 1 || rest.Next != "" || rest.Items[0].ID >= first.Items[1].ID {
				t.Errorf("pages: %+v then %+v", first, rest)
			}
			for _, f := range []contacts.AuditFilter{{Via: "email"}, {Email: "not an address"}, {LicenseID: "bad id!"}} {
				if _, err := store.ListAudit(ctx, f); !errors.Is(err, contacts.ErrInvalid) {
					t.Errorf("ListAudit(%+v) = %v, want invalid", f, err)
				}
			}
		})

		t.Run("AChangeNeedsSomeoneWhoMadeIt", func(t *testing.T) {
			store, _ := setup(t)
			for _, by := range []contacts.Actor{{}, {Via: contacts.ViaAPI}, {Via: "mystery", Name: "x"}} {
				if _, err := store.AddMember(ctx, by, "SEN-1", contacts.NewMember{Email: "bob@acme.test", Role: contacts.Technical}); err == nil {
					t.Errorf("AddMember by %+v succeeded", by)
				}
			}
		})
	})
}
