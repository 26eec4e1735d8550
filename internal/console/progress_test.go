package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
)

// event is one event of a progress stream.
type event struct {
	Status     string `json:"status"`
	Recipients int    `json:"recipients"`
	Done       int    `json:"done"`
	Final      bool   `json:"final"`
}

// stream reads a progress stream's events.
type stream struct {
	t    *testing.T
	body io.ReadCloser
	r    *bufio.Reader
}

func (br *browser) stream(path string) *stream {
	br.t.Helper()
	req, _ := http.NewRequest("GET", br.base+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := br.client.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		br.t.Fatalf("GET %s: %d %s\n%s", path, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	br.t.Cleanup(func() { res.Body.Close() })
	return &stream{t: br.t, body: res.Body, r: bufio.NewReader(res.Body)}
}

// next reads the next progress event; ok is false at the stream's end.
func (s *stream) next() (ev event, ok bool) {
	s.t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		if err == io.EOF {
			return event{}, false
		}
		if err != nil {
			s.t.Fatal(err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && name == "progress":
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				s.t.Fatalf("event %q: %v", data, err)
			}
			return ev, true
		}
	}
}

// TestProgressStream follows an announcement's progress: an event at once,
// one when it changes, and the end of the stream once it is over. The page
// points at the stream, and reloads itself without script, only while the
// announcement may still change.
func TestProgressStream(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ctx := context.Background()
	a, _, err := b.Ledger.Announce(ctx, kinds.StaffSignInAnnouncement("ada@herald.test", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	b.signIn(t, br, "vic@herald.test")
	base := fmt.Sprintf("/console/announcements/%d", a.ID)
	p := br.get(base)
	if !strings.Contains(p.body, `data-progress="`+base+`/progress"`) || !strings.Contains(p.body, `<noscript><meta http-equiv="refresh" content="5"></noscript>`) {
		t.Fatalf("the page of a resolving announcement does not follow its progress:\n%s", p.body)
	}
	s := br.stream(base + "/progress")
	ev, ok := s.next()
	if !ok || ev.Status != "resolving" || ev.Final {
		t.Fatalf("first event: %+v (%v)", ev, ok)
	}
	if _, err := b.Ledger.Cancel(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	ev, ok = s.next()
	if !ok || ev.Status != "cancelled" || !ev.Final {
		t.Fatalf("after the cancel: %+v (%v)", ev, ok)
	}
	if ev, ok := s.next(); ok {
		t.Fatalf("the stream goes on after the final event: %+v", ev)
	}
	p = br.get(base)
	if strings.Contains(p.body, "data-progress=") || strings.Contains(p.body, "http-equiv") {
		t.Errorf("the page of a cancelled announcement still follows its progress:\n%s", p.body)
	}
	// The other pages do not reload themselves.
	if p := br.get("/console/announcements"); strings.Contains(p.body, "http-equiv") {
		t.Error("the list reloads itself")
	}
	for _, path := range []string{"/console/announcements/999/progress", "/console/announcements/x/progress"} {
		if p := br.get(path); p.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, p.status)
		}
	}
	// Signed out, the stream is not served.
	if p := b.browser(t).get(base + "/progress"); p.status != http.StatusSeeOther {
		t.Errorf("signed out: %d, want 303", p.status)
	}
}

// TestProgressStreamEndsBeforeTheDeadline: a stream of an announcement
// that does not finish ends by itself before the server's page deadline
// cuts it, so the browser connects again rather than seeing an error.
func TestProgressStreamEndsBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	b := setupWith(t, apptest.Options{Database: dbtest.SQLite, API: true, Public: true, PageTimeout: 4 * time.Second})
	a, _, err := b.Ledger.Announce(context.Background(), kinds.StaffSignInAnnouncement("ada@herald.test", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	b.signIn(t, br, "vic@herald.test")
	start := time.Now()
	s := br.stream(fmt.Sprintf("/console/announcements/%d/progress", a.ID))
	if _, ok := s.next(); !ok {
		t.Fatal("no first event")
	}
	if ev, ok := s.next(); ok {
		t.Fatalf("an unchanged announcement sent a second event: %+v", ev)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the stream ended after %v, past the deadline", took)
	}
}
