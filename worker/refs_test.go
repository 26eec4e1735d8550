package worker_test

import (
	"context"
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestMessagesCarryTheirReferences checks, through the real SMTP server,
// that with a bounce domain each message's envelope sender is its signed
// return path and its Message-ID is signed, both naming its delivery; and
// that without one, the envelope sender is HERALD_FROM's address.
func TestMessagesCarryTheirReferences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("WithABounceDomain", func(t *testing.T) {
			b := setup(t, database, func(c *config.Config) { c.Inbound.BounceDomain = "Bounces.Vendor.Test" }, nil)
			b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"), apptest.Tech("bob@acme.test", "Bob"))
			a := b.WaitDone(t, announce(t, b, "jira", "9.4.0").ID)
			refs, err := b.OpenRefs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ds := b.Deliveries(t, a.ID)
			msgs := b.SMTP.Messages()
			if len(msgs) != 2 {
				t.Fatalf("%d messages, want 2", len(msgs))
			}
			seen := map[string]bool{}
			for _, m := range msgs {
				d := ds[m.To[0]]
				if !strings.HasPrefix(m.From, "bounces+") || !strings.HasSuffix(m.From, "@bounces.vendor.test") || len(m.From) > 64+len("@bounces.vendor.test") {
					t.Errorf("MAIL FROM %q, want bounces+<token>@bounces.vendor.test", m.From)
				}
				if seen[m.From] {
					t.Errorf("two messages share the return path %s", m.From)
				}
				seen[m.From] = true
				if got, err := refs.Delivery(m.From); err != nil || got != d.ID {
					t.Errorf("the return path of %s names delivery %d (%v), want %d", m.To[0], got, err, d.ID)
				}
				gotD, gotA, err := refs.FromMessageID(m.Header.Get("Message-Id"))
				if err != nil || gotD != d.ID || gotA != a.ID {
					t.Errorf("the Message-ID %s names %d/%d (%v), want %d/%d", m.Header.Get("Message-Id"), gotD, gotA, err, d.ID, a.ID)
				}
				if !strings.HasSuffix(m.Header.Get("Message-Id"), "@vendor.test>") {
					t.Errorf("Message-ID %s is not at the sending domain", m.Header.Get("Message-Id"))
				}
				// Postmark replaces the Message-ID and echoes this instead.
				token := m.Header.Get("X-Pm-Metadata-" + bounce.PostmarkMetadataKey)
				if got, err := refs.FromToken(token); err != nil || got != d.ID {
					t.Errorf("the Postmark metadata %q names %d (%v), want %d", token, got, err, d.ID)
				}
			}
		})

		t.Run("WithoutABounceDomain", func(t *testing.T) {
			b := setup(t, database, nil, nil)
			b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"))
			a := b.WaitDone(t, announce(t, b, "jira", "9.4.0").ID)
			refs, err := b.OpenRefs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			d := b.Deliveries(t, a.ID)["ann@acme.test"]
			for _, m := range b.SMTP.Messages() {
				if m.From != "updates@vendor.test" {
					t.Errorf("MAIL FROM %q, want HERALD_FROM's updates@vendor.test", m.From)
				}
				if got, _, err := refs.FromMessageID(m.Header.Get("Message-Id")); err != nil || got != d.ID {
					t.Errorf("the Message-ID %s names %d (%v), want %d", m.Header.Get("Message-Id"), got, err, d.ID)
				}
			}
		})
	})
}
