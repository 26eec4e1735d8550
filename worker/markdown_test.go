package worker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
)

// TestMarkdownIsRenderedOncePerAnnouncement sends a release and a
// broadcast to 120 people, in several chunks sent by concurrent tasks:
// each announcement's Markdown is converted once, not once a recipient.
func TestMarkdownIsRenderedOncePerAnnouncement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database, nil, nil)
		const people = 120 // chunks of 50, four tasks at once
		for l := range 4 {
			var members []contacts.NewMember
			for p := range people / 4 {
				members = append(members, apptest.Tech(fmt.Sprintf("p%d.%d@acme.test", l, p), ""))
			}
			b.License(t, fmt.Sprintf("SEN-%d", l), "jira", contacts.Active, members...)
		}
		before := b.Renderer.MarkdownRenders()

		release := b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0",
			Notes: "## What's new\n\n* **Faster** boards\n* [Docs](https://vendor.test/docs)\n"})
		broadcast, err := kinds.CreateBroadcast(ctx, b.Ledger, kinds.NewBroadcast{Subject: "Maintenance",
			Body: "Servers are **offline** on Sunday.", Audience: kinds.BroadcastAudience{Roles: []contacts.Role{contacts.Technical}}})
		if err != nil {
			t.Fatal(err)
		}
		b.Fanout(t, broadcast)
		for _, id := range []int64{release.ID, broadcast.ID} {
			if a := b.WaitDone(t, id); a.Counts.Sent != people {
				t.Fatalf("announcement %d: %+v, want %d sent", id, a.Counts, people)
			}
		}

		if n := b.Renderer.MarkdownRenders() - before; n != 2 {
			t.Errorf("Markdown rendered %d times for 2 announcements to %d people each, want 2", n, people)
		}
		for _, m := range b.SMTP.Messages() {
			_, html := m.MustParts(t)
			if !strings.Contains(html, "<strong>Faster</strong>") && !strings.Contains(html, "<strong>offline</strong>") {
				t.Fatalf("message to %s lacks the rendered Markdown:\n%s", m.To[0], html)
			}
		}
	})
}
