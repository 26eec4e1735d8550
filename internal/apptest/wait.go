package apptest

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/ledger"
)

// Eventually reports whether cond holds within timeout, asking every
// 10 ms.
func Eventually(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); ; {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitFor fails the test unless cond holds within timeout; what says what
// was awaited.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Eventually(timeout, cond) {
		t.Fatalf("%s: not within %s", what, timeout)
	}
}

// Reconcile runs the reconciler once, as the scheduler does every
// HERALD_RECONCILE_INTERVAL.
func (b *Bundle) Reconcile(t testing.TB) {
	t.Helper()
	if _, err := b.Jobs.Reconciler.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// WaitDone waits until an announcement is done or cancelled, reconciling as
// the scheduler would, and returns it with its counts.
func (b *Bundle) WaitDone(t testing.TB, id int64) ledger.Announcement {
	t.Helper()
	var a ledger.Announcement
	ok := Eventually(60*time.Second, func() bool {
		var err error
		if a, err = b.Ledger.Get(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		if a.Status == ledger.Done || a.Status == ledger.Cancelled {
			return true
		}
		b.Reconcile(t)
		return false
	})
	if !ok {
		t.Fatalf("announcement %d not done after 60s: %s %+v", id, a.Status, a.Counts)
	}
	return a
}

// WaitAllDone waits until no announcement is left to send.
func (b *Bundle) WaitAllDone(t testing.TB) {
	t.Helper()
	var open int
	ok := Eventually(60*time.Second, func() bool {
		if err := db.Get(context.Background(), b.DB, &open,
			`SELECT COUNT(*) FROM announcements WHERE status IN ('scheduled', 'resolving', 'sending')`); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return true
		}
		b.Reconcile(t)
		return false
	})
	if !ok {
		t.Fatalf("%d announcements still open after 60s", open)
	}
}
