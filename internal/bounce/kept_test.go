package bounce_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

func TestKeptStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("KeepsAndReturnsTheMessage", func(t *testing.T) {
			d := database.Open(t)
			now := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
			s := bounce.NewKeptStore(d, func() time.Time { return now })
			raw := []byte("From: x@y.test\r\n\r\n\x00\xff binary survives")
			id, err := s.Keep(ctx, bounce.KeptMessage{MailFrom: "x@y.test", RcptTo: "a@b.test,c@b.test", Format: bounce.Unknown, Reason: "why", Raw: raw})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want := bounce.KeptMessage{ID: id, ReceivedAt: now, MailFrom: "x@y.test", RcptTo: "a@b.test,c@b.test", Size: len(raw), Format: bounce.Unknown, Reason: "why", Raw: raw}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Get = %+v, want %+v", got, want)
			}
			if _, err := s.Get(ctx, id+1); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Get of another id = %v, want not found", err)
			}
		})

		t.Run("HoldsAtMostTheBounds", func(t *testing.T) {
			d := database.Open(t)
			now := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
			s := bounce.NewKeptStore(d, func() time.Time { return now })
			keep := func(reason string) int64 {
				id, err := s.Keep(ctx, bounce.KeptMessage{Format: bounce.Unknown, Reason: reason, Raw: []byte("x")})
				if err != nil {
					t.Fatal(err)
				}
				return id
			}
			old := keep("old")
			now = now.Add(bounce.KeptFor) // old is 30 days old: still kept
			keep("new")
			if _, err := s.Get(ctx, old); err != nil {
				t.Fatalf("a message exactly 30 days old was pruned: %v", err)
			}
			now = now.Add(time.Second)
			for i := range bounce.KeptMax + 5 {
				keep(fmt.Sprint(i))
			}
			if _, err := s.Get(ctx, old); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("a message older than 30 days is still kept: %v", err)
			}
			var all []bounce.KeptMessage
			for req := (page.Request{Limit: page.MaxSize}); ; {
				p, err := s.List(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, p.Items...)
				if p.Next == "" {
					break
				}
				req.After = p.Next
			}
			if len(all) != bounce.KeptMax {
				t.Fatalf("%d messages kept, want %d", len(all), bounce.KeptMax)
			}
			if all[0].Reason != fmt.Sprint(bounce.KeptMax+4) || all[len(all)-1].Reason != "5" {
				t.Errorf("kept %q … %q, want the newest 1,000 (%d … 5), newest first", all[0].Reason, all[len(all)-1].Reason, bounce.KeptMax+4)
			}
			if all[0].Raw != nil {
				t.Error("List returned the raw messages")
			}
		})
	})
}
