package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/smtptest"
)

// TestRedisFlushMidFanoutLosesNothing empties Redis while a release to 2 000
// people is being sent. The queued work is gone; the reconciler finds it in
// the ledger again, and everyone gets exactly one message.
//
// It does not run in parallel: on a real Redis the flush empties the whole
// test database.
func TestRedisFlushMidFanoutLosesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database, func(c *config.Config) { c.Worker.ChunkSize = 100 }, func(s *smtptest.Server) {
			s.Data = func(n int, to []string) error {
				time.Sleep(time.Millisecond) // long enough to flush in the middle
				return nil
			}
		})
		const people = 2000
		ctx := context.Background()
		rows := make([]contacts.Row, people)
		for i := range rows {
			rows[i] = contacts.Row{Line: i + 2, LicenseID: fmt.Sprintf("L-%d", i%50), Product: "jira", LicenseName: "Customer",
				Email: fmt.Sprintf("p%04d@acme.test", i), Role: contacts.Technical}
		}
		if _, err := b.Contacts.Import(ctx, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, rows); err != nil {
			t.Fatal(err)
		}

		a := announce(t, b, "jira", "9.4.0")
		apptest.WaitFor(t, 30*time.Second, "300 messages", func() bool { return b.SMTP.Accepted() >= 300 })
		before := b.SMTP.Accepted()
		if emb := b.Queue.Embedded(); emb != nil {
			emb.FlushAll()
		} else if err := b.Queue.Redis().FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		t.Logf("flushed Redis after %d of %d messages", before, people)

		a = b.WaitDone(t, a.ID)
		if a.Counts.Sent != people || a.Counts.Recipients != people {
			t.Errorf("counts %+v, want all %d sent", a.Counts, people)
		}
		per := b.SMTP.PerRecipient()
		if len(per) != people {
			t.Errorf("%d people got mail, want %d", len(per), people)
		}
		for email, n := range per {
			if n != 1 {
				t.Errorf("%s got %d messages", email, n)
			}
		}
	})
}
