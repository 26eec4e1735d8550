package admin_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/smtptest"
)

// relayView is what GET /relay answers.
type relayView struct {
	State, Error, Advice string
	Rate                 struct{ Configured, Effective float64 }
	Paused               struct {
		Items []struct {
			ID       int64
			PausedBy string `json:"paused_by"`
		}
	}
}

func TestTheRelayAsTheAPIShowsIt(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		var refusing atomic.Bool
		refusing.Store(true)
		b := &testBundle{apptest.Start(t, apptest.Options{Database: database, API: true, Workers: true, SMTP: func(s *smtptest.Server) {
			s.Connect = func() error {
				if refusing.Load() {
					return smtptest.Reply(535, [3]int{5, 7, 8}, "Authentication credentials invalid")
				}
				return nil
			}
		}})}

		// The workers check the relay as they start, in the background.
		var relay relayView
		apptest.WaitFor(t, 30*time.Second, "the start check to fail", func() bool {
			decode(t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/relay"}), &relay)
			return relay.State != "unknown"
		})
		// Ready all the same: a relay outage must not take the API out of
		// a load balancer.
		ready := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/readyz"}).json(t)
		if ready["smtp"] != "failing" || ready["ready"] != true {
			t.Errorf("readyz with the relay failing: %v", ready)
		}
		if relay.State != "failing" || !strings.Contains(relay.Error, "535") || !strings.Contains(relay.Advice, "HERALD_SMTP_URL") {
			t.Errorf("relay: %+v, want failing with the 535 and the setting to change", relay)
		}

		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		var created struct {
			AnnouncementID int64 `json:"announcement_id"`
		}
		decode(t, b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: `{"product":"jira","version":"9.4.0"}`}), &created)
		apptest.WaitFor(t, 30*time.Second, "the release to pause", func() bool {
			decode(t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/relay"}), &relay)
			return len(relay.Paused.Items) == 1
		})
		if p := relay.Paused.Items[0]; p.ID != created.AnnouncementID || p.PausedBy != "relay" {
			t.Errorf("paused: %+v, want the release paused by the relay", relay.Paused.Items)
		}
		a := b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d", created.AnnouncementID)}).json(t)
		if a["status"] != "paused" || !strings.Contains(fmt.Sprint(a["paused_reason"]), "535") {
			t.Errorf("the paused release: %v", a)
		}

		refusing.Store(false)
		if got := b.WaitDone(t, created.AnnouncementID); got.Counts.Sent != 2 {
			t.Errorf("after the relay works again: %+v, want both technical contacts sent", got.Counts)
		}
		decode(t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/relay"}), &relay)
		if relay.State != "ok" || len(relay.Paused.Items) != 0 {
			t.Errorf("relay once it works: %+v", relay)
		}
	})
}

func TestPauseAndResumeByHand(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
	var created struct {
		AnnouncementID int64 `json:"announcement_id"`
	}
	decode(t, b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases",
		body: `{"product":"jira","version":"9.4.0","send_at":"2099-01-01T00:00:00Z"}`}), &created)
	path := fmt.Sprintf("/api/v1/announcements/%d/", created.AnnouncementID)

	if _, field := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: path + "pause", body: `{"reason":"` + strings.Repeat("x", 501) + `"}`}).apiError(t); field != "reason" {
		t.Errorf("a reason too long names %q", field)
	}
	if code, _ := b.mustDo(t, http.StatusConflict, request{method: "POST", path: path + "resume"}).apiError(t); code != "conflict" {
		t.Errorf("resuming what is not paused: %s", code)
	}
	paused := b.mustDo(t, http.StatusOK, request{method: "POST", path: path + "pause", body: `{"reason":"wrong notes"}`}).json(t)
	if paused["status"] != "paused" || paused["paused_reason"] != "wrong notes" || !strings.HasPrefix(fmt.Sprint(paused["paused_by"]), "token:") {
		t.Errorf("paused: %v", paused)
	}
	resumed := b.mustDo(t, http.StatusOK, request{method: "POST", path: path + "resume"}).json(t)
	if resumed["status"] != "scheduled" || resumed["paused_by"] != nil {
		t.Errorf("resumed: %v, want scheduled again", resumed)
	}
	b.mustDo(t, http.StatusNotFound, request{method: "POST", path: "/api/v1/announcements/999/pause"})
}
