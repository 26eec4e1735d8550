package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// queued reports whether a task with id waits in the test's queue.
func (b *testBundle) queued(t *testing.T, id string) bool {
	t.Helper()
	info, err := asynq.NewInspectorFromRedisClient(b.Queue.Redis()).GetTaskInfo(b.Queue.Name(), id)
	if err != nil {
		return false
	}
	return info.State == asynq.TaskStatePending || info.State == asynq.TaskStateScheduled
}

func TestReleasesAndAnnouncements(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})

		var created struct {
			Release struct {
				Product, Version, Title string
				AnnouncementID          int64 `json:"announcement_id"`
			}
			AnnouncementID int64 `json:"announcement_id"`
			Announcement   struct {
				ID        int64
				Kind      string
				Status    string
				DedupeKey string `json:"dedupe_key"`
			}
		}
		res := b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases",
			body: `{"product":"jira","version":"9.4.0","title":"Jira 9.4","notes":"* faster","url":"https://vendor.test/jira/9.4"}`})
		if err := json.Unmarshal(res.body, &created); err != nil {
			t.Fatal(err)
		}
		id := created.AnnouncementID
		if id == 0 || created.Release.AnnouncementID != id || created.Announcement.ID != id || created.Announcement.Kind != "release" ||
			created.Announcement.Status != "resolving" || created.Announcement.DedupeKey != "release:jira:9.4.0" {
			t.Fatalf("created release: %s", res.body)
		}
		if !b.queued(t, fmt.Sprintf("fanout:%d", id)) {
			t.Errorf("no fan-out task queued for announcement %d", id)
		}

		t.Run("SameVersionAgainIsTheSameAnnouncement", func(t *testing.T) {
			res := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/releases", body: `{"product":"JIRA","version":"9.4.0"}`})
			var again struct {
				AnnouncementID int64 `json:"announcement_id"`
			}
			if err := json.Unmarshal(res.body, &again); err != nil || again.AnnouncementID != id {
				t.Errorf("announcing again: %s", res.body)
			}
			var n int
			if err := db.Get(context.Background(), b.DB, &n, `SELECT COUNT(*) FROM announcements`); err != nil || n != 1 {
				t.Errorf("%d announcements, want 1 (%v)", n, err)
			}
		})

		t.Run("BadReleases", func(t *testing.T) {
			for body, field := range map[string]string{
				`{"version":"1.0"}`:                                       "product",
				`{"product":"jira"}`:                                      "version",
				`{"product":"jira","version":"1.0 beta"}`:                 "version",
				`{"product":"jira","version":"1.0","url":"ftp://x"}`:      "url",
				`{"product":"jira","version":"1.0","title":"a\nb"}`:       "title",
				`{"product":"jira","version":"1.0","send_at":"tomorrow"}`: "send_at",
			} {
				_, got := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/releases", body: body}).apiError(t)
				if got != field {
					t.Errorf("%s: field %q, want %q", body, got, field)
				}
			}
		})

		t.Run("ScheduledReleaseWaitsAndCanBeCancelled", func(t *testing.T) {
			later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			res := b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: `{"product":"jira","version":"9.5.0","send_at":"` + later + `"}`})
			var v struct {
				AnnouncementID int64 `json:"announcement_id"`
				Announcement   struct{ Status string }
			}
			if err := json.Unmarshal(res.body, &v); err != nil || v.Announcement.Status != "scheduled" {
				t.Fatalf("scheduled release: %s", res.body)
			}
			if b.queued(t, fmt.Sprintf("fanout:%d", v.AnnouncementID)) {
				t.Error("a scheduled release was fanned out at once")
			}
			path := fmt.Sprintf("/api/v1/announcements/%d/cancel", v.AnnouncementID)
			if st := b.mustDo(t, http.StatusOK, request{method: "POST", path: path}).json(t)["status"]; st != "cancelled" {
				t.Errorf("status after cancel = %v", st)
			}
			if code, _ := b.mustDo(t, http.StatusConflict, request{method: "POST", path: path}).apiError(t); code != "conflict" {
				t.Errorf("second cancel: %s", code)
			}
		})

		t.Run("ListsAndFilters", func(t *testing.T) {
			list := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/announcements?kind=release&status=cancelled"}).json(t)
			if items := list["items"].([]any); len(items) != 1 {
				t.Errorf("cancelled releases: %v", list)
			}
			rels := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/releases?product=jira"}).json(t)
			if items := rels["items"].([]any); len(items) != 2 || items[0].(map[string]any)["version"] != "9.5.0" {
				t.Errorf("releases newest first: %v", rels)
			}
			one := b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d", id)}).json(t)
			if _, ok := one["counts"].(map[string]any)["recipients"]; !ok {
				t.Errorf("announcement view without counts: %v", one)
			}
			b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d/deliveries?status=pending", id)})
			for path, field := range map[string]string{
				"/api/v1/announcements?kind=letter":                             "kind",
				"/api/v1/announcements?status=lost":                             "status",
				fmt.Sprintf("/api/v1/announcements/%d/deliveries?status=x", id): "status",
			} {
				if _, got := b.mustDo(t, http.StatusBadRequest, request{method: "GET", path: path}).apiError(t); got != field {
					t.Errorf("%s: field %q, want %q", path, got, field)
				}
			}
			for _, path := range []string{"/api/v1/announcements/999999", "/api/v1/announcements/abc", "/api/v1/announcements/999999/deliveries"} {
				b.mustDo(t, http.StatusNotFound, request{method: "GET", path: path})
			}
		})

		t.Run("RetryFailedRequeuesOnlyTheFailed", func(t *testing.T) {
			ctx := context.Background()
			now := time.Now().UTC()
			// A fan-out as the worker would make it, then outcomes.
			if _, err := db.Exec(ctx, b.DB, `UPDATE announcements SET status = 'sending' WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
			for i, st := range []string{"sent", "failed", "failed"} {
				if _, err := db.Exec(ctx, b.DB, `INSERT INTO deliveries (announcement_id, email, chunk, status, attempts, last_error, next_attempt_at, created_at, updated_at)
					VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`, id, fmt.Sprintf("p%d@acme.test", i), i, st, "550 no", now, now, now); err != nil {
					t.Fatal(err)
				}
			}
			res := b.mustDo(t, http.StatusOK, request{method: "POST", path: fmt.Sprintf("/api/v1/announcements/%d/retry-failed", id)}).json(t)
			counts := res["counts"].(map[string]any)
			if counts["pending"] != 2.0 || counts["sent"] != 1.0 || counts["failed"] != 0.0 || res["status"] != "sending" {
				t.Errorf("after retry-failed: %v", res)
			}
			for _, chunk := range []int{1, 2} {
				if !b.queued(t, fmt.Sprintf("send:%d:%d", id, chunk)) {
					t.Errorf("chunk %d not queued", chunk)
				}
			}
			if b.queued(t, fmt.Sprintf("send:%d:0", id)) {
				t.Error("the chunk with only a sent delivery was queued")
			}
		})
	})
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)

	list := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/templates"}).json(t)
	var names []string
	for _, item := range list["items"].([]any) {
		names = append(names, item.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "broadcast,contact_change,invoice_due,invoice_overdue,invoice_upcoming,release,sign_in,staff_sign_in" {
		t.Fatalf("templates: %v", names)
	}

	sample := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/templates/release/preview?locale=de"}).json(t)
	if !strings.Contains(sample["subject"].(string), "ist verfügbar") || !strings.Contains(sample["html"].(string), "<html") {
		t.Errorf("German sample preview: %v", sample)
	}
	custom := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/templates/release/preview",
		body: `{"recipient":{"name":"<b>Zed</b>"},"release":{"product":"jira","version":"10.0","title":"Jira 10\r\nBcc: x@evil.test"}}`}).json(t)
	if s := custom["subject"].(string); strings.ContainsAny(s, "\r\n") || !strings.HasPrefix(s, "Jira 10 Bcc") {
		t.Errorf("subject keeps a line break: %q", s)
	}
	if h := custom["html"].(string); strings.Contains(h, "<b>Zed</b>") || !strings.Contains(h, "&lt;b&gt;Zed&lt;/b&gt;") {
		t.Errorf("name not escaped in HTML preview")
	}
	if _, field := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/templates/release/preview", body: `{"recipent":{}}`}).apiError(t); field != "recipent" {
		t.Errorf("unknown field in preview data: field %q", field)
	}
	b.mustDo(t, http.StatusNotFound, request{method: "POST", path: "/api/v1/templates/nothing/preview"})
}
