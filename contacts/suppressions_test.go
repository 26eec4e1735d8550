package contacts_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/pagetest"
)

// storedSuppression is a row of the suppressions table: what a test checks
// of the history that the store keeps.
type storedSuppression struct {
	Email      string     `db:"email"`
	Reply      string     `db:"reply"`
	Code       int        `db:"code"`
	Enhanced   string     `db:"enhanced"`
	DeliveryID *int64     `db:"delivery_id"`
	CreatedAt  time.Time  `db:"created_at"`
	LiftedAt   *time.Time `db:"lifted_at"`
	LiftedBy   string     `db:"lifted_by"`
}

// history returns every suppression of email, oldest first, times in UTC.
func (b *testBundle) history(t *testing.T, email string) []storedSuppression {
	t.Helper()
	var rows []storedSuppression
	if err := db.Select(context.Background(), b.db, &rows, `
		SELECT email, reply, code, enhanced, delivery_id, created_at, lifted_at, lifted_by
		FROM suppressions WHERE email = ? ORDER BY id`, email); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].CreatedAt = rows[i].CreatedAt.UTC()
		if rows[i].LiftedAt != nil {
			lifted := rows[i].LiftedAt.UTC()
			rows[i].LiftedAt = &lifted
		}
	}
	return rows
}

func ptr[T any](v T) *T { return &v }

// gone is the reply of a server that does not know the address.
var gone = contacts.Suppression{Reply: "550 5.1.1 <ann@acme.test>: no such user", Code: 550, Enhanced: "5.1.1", DeliveryID: 42}

func TestSuppressions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		// setup returns a store whose license SEN-1 has the technical
		// contacts emails, none suppressed, its clock at the bundle's now.
		setup := func(t *testing.T, emails ...string) (*contacts.Store, *testBundle) {
			t.Helper()
			store, b := newStore(t, database)
			members := make([]contacts.NewMember, len(emails))
			for i, e := range emails {
				members[i] = contacts.NewMember{Email: e, Role: contacts.Technical}
			}
			if _, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme", Contacts: members}); err != nil {
				t.Fatal(err)
			}
			return store, b
		}
		suppress := func(t *testing.T, store *contacts.Store, email string, why contacts.Suppression) {
			t.Helper()
			if err := store.Suppress(ctx, email, why); err != nil {
				t.Fatalf("Suppress %s: %v", email, err)
			}
		}
		current := func(t *testing.T, store *contacts.Store, email string) *contacts.SuppressionRecord {
			t.Helper()
			c, err := store.GetContact(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			return c.Suppression
		}
		list := func(t *testing.T, store *contacts.Store, f contacts.SuppressionFilter) []contacts.SuppressionRecord {
			t.Helper()
			p, err := store.Suppressions(ctx, f)
			if err != nil {
				t.Fatalf("Suppressions(%+v): %v", f, err)
			}
			return p.Items
		}

		t.Run("SuppressRecordsTheReplyItsCodesTheTimeAndTheDelivery", func(t *testing.T) {
			t.Parallel()
			store, b := setup(t, "ann@acme.test", "bob@acme.test")

			suppress(t, store, "ANN@acme.test", gone)

			want := contacts.SuppressionRecord{Email: "ann@acme.test", Suppression: gone, SuppressedAt: b.now}
			if diff := cmp.Diff(&want, current(t, store, "ann@acme.test")); diff != "" {
				t.Errorf("contact's suppression (-want +got):\n%s", diff)
			}
			if got := current(t, store, "bob@acme.test"); got != nil {
				t.Errorf("bob's suppression = %+v, want none", got)
			}
			if diff := cmp.Diff([]contacts.SuppressionRecord{want}, list(t, store, contacts.SuppressionFilter{})); diff != "" {
				t.Errorf("Suppressions (-want +got):\n%s", diff)
			}
			wantStored := []storedSuppression{{Email: "ann@acme.test", Reply: gone.Reply, Code: 550, Enhanced: "5.1.1", DeliveryID: ptr(int64(42)), CreatedAt: b.now}}
			if diff := cmp.Diff(wantStored, b.history(t, "ann@acme.test")); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})

		t.Run("SuppressWithoutCodeOrDelivery", func(t *testing.T) {
			t.Parallel()
			store, b := setup(t, "ann@acme.test")

			suppress(t, store, "ann@acme.test", contacts.Suppression{Reply: "hard bounce"})

			want := contacts.SuppressionRecord{Email: "ann@acme.test", Suppression: contacts.Suppression{Reply: "hard bounce"}, SuppressedAt: b.now}
			if diff := cmp.Diff(&want, current(t, store, "ann@acme.test")); diff != "" {
				t.Errorf("contact's suppression (-want +got):\n%s", diff)
			}
			if got := b.history(t, "ann@acme.test"); len(got) != 1 || got[0].DeliveryID != nil {
				t.Errorf("stored %+v, want one suppression with no delivery", got)
			}
		})

		t.Run("SuppressingAgainChangesNothing", func(t *testing.T) {
			t.Parallel()
			store, b := setup(t, "ann@acme.test")
			suppress(t, store, "ann@acme.test", gone)
			first := b.now
			b.now = b.now.Add(time.Hour)

			suppress(t, store, "ann@acme.test", contacts.Suppression{Reply: "550 5.7.1 relay denied", Code: 550, Enhanced: "5.7.1", DeliveryID: 43})

			want := contacts.SuppressionRecord{Email: "ann@acme.test", Suppression: gone, SuppressedAt: first}
			if diff := cmp.Diff(&want, current(t, store, "ann@acme.test")); diff != "" {
				t.Errorf("after a second suppression (-want +got):\n%s", diff)
			}
			if got := len(b.history(t, "ann@acme.test")); got != 1 {
				t.Errorf("%d suppressions stored, want 1", got)
			}
		})

		t.Run("SuppressingAStrangerRecordsNothing", func(t *testing.T) {
			t.Parallel()
			store, b := setup(t, "ann@acme.test")

			suppress(t, store, "nobody@acme.test", gone)

			if got := list(t, store, contacts.SuppressionFilter{}); len(got) != 0 {
				t.Errorf("Suppressions = %+v, want none", got)
			}
			if got := b.history(t, "nobody@acme.test"); len(got) != 0 {
				t.Errorf("stored %+v, want nothing", got)
			}
		})

		t.Run("UnsuppressLiftsAndRecordsWho", func(t *testing.T) {
			t.Parallel()
			store, b := setup(t, "ann@acme.test")
			suppress(t, store, "ann@acme.test", gone)
			suppressedAt := b.now
			b.now = b.now.Add(time.Hour)

			lifted, err := store.Unsuppress(ctx, "Ann@Acme.test", contacts.Actor{Via: contacts.ViaAPI, Name: "ci"})
			if err != nil {
				t.Fatalf("Unsuppress: %v", err)
			}

			want := contacts.SuppressionRecord{Email: "ann@acme.test", Suppression: gone, SuppressedAt: suppressedAt, LiftedAt: ptr(b.now), LiftedBy: "token:ci"}
			if diff := cmp.Diff(want, lifted); diff != "" {
				t.Errorf("Unsuppress (-want +got):\n%s", diff)
			}
			if got := current(t, store, "ann@acme.test"); got != nil {
				t.Errorf("suppression after the lift = %+v, want none", got)
			}
			if got := list(t, store, contacts.SuppressionFilter{}); len(got) != 0 {
				t.Errorf("Suppressions after the lift = %+v, want none", got)
			}
			recipients, err := store.Recipients(ctx, []string{"ann@acme.test"}, contacts.Technical, contacts.Scope{})
			if err != nil || recipients["ann@acme.test"].Suppressed {
				t.Errorf("Recipients after the lift = %+v, %v; want ann not suppressed", recipients, err)
			}

			// A later refusal suppresses the address again; the history
			// keeps both.
			b.now = b.now.Add(time.Hour)
			again := contacts.Suppression{Reply: "552 mailbox full", Code: 552, DeliveryID: 77}
			suppress(t, store, "ann@acme.test", again)
			if got := current(t, store, "ann@acme.test"); got == nil || got.Suppression != again || !got.SuppressedAt.Equal(b.now) {
				t.Errorf("suppression after suppressing again = %+v, want %+v at %v", got, again, b.now)
			}
			wantStored := []storedSuppression{
				{Email: "ann@acme.test", Reply: gone.Reply, Code: 550, Enhanced: "5.1.1", DeliveryID: ptr(int64(42)), CreatedAt: suppressedAt, LiftedAt: ptr(suppressedAt.Add(time.Hour)), LiftedBy: "token:ci"},
				{Email: "ann@acme.test", Reply: "552 mailbox full", Code: 552, DeliveryID: ptr(int64(77)), CreatedAt: b.now},
			}
			if diff := cmp.Diff(wantStored, b.history(t, "ann@acme.test")); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})

		t.Run("UnsuppressRefuses", func(t *testing.T) {
			t.Parallel()
			store, _ := setup(t, "ann@acme.test", "bob@acme.test", "cy@acme.test")
			suppress(t, store, "cy@acme.test", gone)
			if _, err := store.Unsuppress(ctx, "cy@acme.test", ops); err != nil {
				t.Fatal(err)
			}
			suppress(t, store, "bob@acme.test", gone)
			for _, tt := range []struct {
				name, email string
				by          contacts.Actor
				want        error
			}{
				{"NotSuppressed", "ann@acme.test", ops, fault.ErrNotFound},
				{"LiftedAlready", "cy@acme.test", ops, fault.ErrNotFound},
				{"NoSuchContact", "nobody@acme.test", ops, fault.ErrNotFound},
				{"NotAnAddress", "bob at acme", ops, &fault.Error{Kind: fault.KindInvalid, Field: "email"}},
				{"NoOneLifts", "bob@acme.test", contacts.Actor{}, &fault.Error{Kind: fault.KindInvalid, Field: "by"}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					_, err := store.Unsuppress(ctx, tt.email, tt.by)
					if !errors.Is(err, tt.want) {
						t.Errorf("Unsuppress(%q, %v) = %v, want %v", tt.email, tt.by, err, tt.want)
					}
				})
			}
			// bob, refused only for want of a name, is still suppressed.
			if got := current(t, store, "bob@acme.test"); got == nil {
				t.Error("bob is no longer suppressed")
			}
		})

		t.Run("ListFiltersAndPages", func(t *testing.T) {
			t.Parallel()
			store, _ := setup(t, "a@acme.test", "b@acme.test", "c@acme.test", "d@acme.test", "e@acme.test", "f@acme.test")
			// e first, so that the list's order is the address's, not
			// the suppression's.
			for _, email := range []string{"e@acme.test", "a@acme.test", "b@acme.test", "d@acme.test", "c@acme.test"} {
				suppress(t, store, email, gone)
			}
			if _, err := store.Unsuppress(ctx, "c@acme.test", ops); err != nil {
				t.Fatal(err)
			}
			emails := func(rs []contacts.SuppressionRecord) []string {
				out := []string{}
				for _, r := range rs {
					out = append(out, r.Email)
				}
				return out
			}
			for _, tt := range []struct {
				name   string
				filter contacts.SuppressionFilter
				want   []string
			}{
				{"All", contacts.SuppressionFilter{}, []string{"a@acme.test", "b@acme.test", "d@acme.test", "e@acme.test"}},
				{"Email", contacts.SuppressionFilter{Email: "D@ACME.test"}, []string{"d@acme.test"}},
				{"EmailLifted", contacts.SuppressionFilter{Email: "c@acme.test"}, []string{}},
				{"EmailNeverSuppressed", contacts.SuppressionFilter{Email: "f@acme.test"}, []string{}},
				{"EmailUnknown", contacts.SuppressionFilter{Email: "zed@acme.test"}, []string{}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					if diff := cmp.Diff(tt.want, emails(list(t, store, tt.filter))); diff != "" {
						t.Errorf("emails (-want +got):\n%s", diff)
					}
				})
			}

			pages := pagetest.Walk(t, 3, func(req page.Request) (page.Page[contacts.SuppressionRecord], error) {
				return store.Suppressions(ctx, contacts.SuppressionFilter{Page: req})
			})
			if len(pages) != 2 {
				t.Errorf("took %d pages, want 2", len(pages))
			}
			got := emails(slices.Concat(pages...))
			if diff := cmp.Diff([]string{"a@acme.test", "b@acme.test", "d@acme.test", "e@acme.test"}, got); diff != "" {
				t.Errorf("paged (-want +got):\n%s", diff)
			}

			for _, tt := range []struct {
				filter contacts.SuppressionFilter
				field  string
			}{
				{contacts.SuppressionFilter{Email: "not an address"}, "email"},
				{contacts.SuppressionFilter{Page: page.Request{Limit: 501}}, "limit"},
				{contacts.SuppressionFilter{Page: page.Request{After: "%%%"}}, "after"},
			} {
				_, err := store.Suppressions(ctx, tt.filter)
				if f, ok := fault.As(err); !ok || f.Kind != fault.KindInvalid || f.Field != tt.field {
					t.Errorf("Suppressions(%+v) = %v, want invalid input in %q", tt.filter, err, tt.field)
				}
			}
		})

		// A herald older than the suppressions table, running beside this
		// one during an upgrade, marks the contact alone.
		t.Run("SuppressedByAnOlderHerald", func(t *testing.T) {
			t.Parallel()
			store, b := setup(t, "ann@acme.test")
			if _, err := db.Exec(ctx, b.db, `UPDATE contacts SET suppressed_at = ?, suppressed_reason = ? WHERE email = ?`,
				b.now, "550 no such user", "ann@acme.test"); err != nil {
				t.Fatal(err)
			}
			want := contacts.SuppressionRecord{Email: "ann@acme.test", Suppression: contacts.Suppression{Reply: "550 no such user"}, SuppressedAt: b.now}
			if diff := cmp.Diff([]contacts.SuppressionRecord{want}, list(t, store, contacts.SuppressionFilter{})); diff != "" {
				t.Errorf("Suppressions (-want +got):\n%s", diff)
			}

			b.now = b.now.Add(time.Minute)
			lifted, err := store.Unsuppress(ctx, "ann@acme.test", ops)
			if err != nil {
				t.Fatalf("Unsuppress: %v", err)
			}

			want.LiftedAt, want.LiftedBy = ptr(b.now), "cli:ops"
			if diff := cmp.Diff(want, lifted); diff != "" {
				t.Errorf("Unsuppress (-want +got):\n%s", diff)
			}
			wantStored := []storedSuppression{{Email: "ann@acme.test", Reply: "550 no such user", CreatedAt: b.now.Add(-time.Minute), LiftedAt: ptr(b.now), LiftedBy: "cli:ops"}}
			if diff := cmp.Diff(wantStored, b.history(t, "ann@acme.test")); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
		})

		t.Run("ConcurrentSuppressionsAndLiftsKeepOneRecord", func(t *testing.T) {
			t.Parallel()
			store, b := setup(t, "ann@acme.test")
			const n = 10
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					errs <- store.Suppress(ctx, "ann@acme.test", contacts.Suppression{Reply: fmt.Sprintf("550 refusal %d", i), Code: 550, DeliveryID: int64(i + 1)})
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("Suppress: %v", err)
				}
			}
			stored := b.history(t, "ann@acme.test")
			got := current(t, store, "ann@acme.test")
			if len(stored) != 1 || got == nil || got.Reply != stored[0].Reply || got.DeliveryID != *stored[0].DeliveryID {
				t.Fatalf("after %d concurrent suppressions: current %+v, stored %+v; want one, the same", n, got, stored)
			}

			var lifts sync.WaitGroup
			results := make(chan error, n)
			for i := range n {
				lifts.Go(func() {
					_, err := store.Unsuppress(ctx, "ann@acme.test", contacts.Actor{Via: contacts.ViaAPI, Name: fmt.Sprintf("t%d", i)})
					results <- err
				})
			}
			lifts.Wait()
			close(results)
			lifted := 0
			for err := range results {
				switch {
				case err == nil:
					lifted++
				case !errors.Is(err, fault.ErrNotFound):
					t.Errorf("Unsuppress: %v", err)
				}
			}
			if lifted != 1 {
				t.Errorf("%d concurrent lifts succeeded, want 1", lifted)
			}
			if stored := b.history(t, "ann@acme.test"); len(stored) != 1 || stored[0].LiftedAt == nil || stored[0].LiftedBy == "" {
				t.Errorf("stored after the lifts: %+v, want one lifted suppression", stored)
			}
		})
	})
}

// ops is who lifts suppressions from the command line in these tests.
var ops = contacts.Actor{Via: contacts.ViaCLI, Name: "ops"}
