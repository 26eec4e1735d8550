package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
)

// eventJSON is an event of a delivery as the API shows it.
type eventJSON struct {
	Kind       string    `json:"kind"`
	Code       string    `json:"code"`
	Diagnostic string    `json:"diagnostic"`
	Source     string    `json:"source"`
	OccurredAt time.Time `json:"occurred_at"`
}

// eventfulDeliveryJSON is a delivery of a person's history with what came
// back after it was sent.
type eventfulDeliveryJSON struct {
	personDeliveryJSON
	ComplainedAt *time.Time  `json:"complained_at"`
	Events       []eventJSON `json:"events"`
}

// eventsBundle is ann@acme.test, technical and billing contact of J-1, sent
// a release notice, an invoice reminder and a broadcast (oldest first),
// with the ids of the three announcements.
type eventsBundle struct {
	*testBundle
	release, reminder, broadcast int64
}

func setupEvents(t *testing.T, database dbtest.Database) *eventsBundle {
	t.Helper()
	b := &eventsBundle{testBundle: setup(t, database)}
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses",
		body: `{"id":"J-1","product":"jira","name":"Acme","contacts":[{"email":"ann@acme.test","role":"technical"},{"email":"ann@acme.test","role":"billing"}]}`})
	b.startWorkers(t)
	b.release = b.WaitDone(t, b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0", Title: "Jira 9.4"}).ID).ID

	today := b.Clock.Now().UTC()
	b.mustDo(t, http.StatusCreated, request{method: "PUT", path: "/api/v1/invoices/INV-1",
		body: fmt.Sprintf(`{"license_id":"J-1","amount_minor":125000,"currency":"EUR","due_date":%q,"status":"open"}`, today.AddDate(0, 0, 7).Format(time.DateOnly))})
	b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/jobs/invoice-reminders", body: fmt.Sprintf(`{"as_of":%q}`, today.Format(time.DateOnly))})
	inv := decodeInto[struct {
		Reminders []struct {
			ID int64 `json:"id"`
		} `json:"reminders"`
	}](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/invoices/INV-1"}))
	if len(inv.Reminders) != 1 {
		t.Fatalf("reminders of INV-1: %+v", inv.Reminders)
	}
	b.reminder = b.WaitDone(t, inv.Reminders[0].ID).ID
	b.broadcast = b.WaitDone(t, b.testBundle.broadcast(t, `{"subject":"Maintenance","body":"Sunday.","audience":{"roles":["technical"]}}`)).ID
	return b
}

// record applies e through herald's own sink, as the inbound server and
// the webhooks do.
func (b *eventsBundle) record(t *testing.T, e bounce.Event) {
	t.Helper()
	sink, err := b.OpenBounceSink(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	applied, reason, err := sink.Record(context.Background(), e)
	if err != nil || !applied {
		t.Fatalf("record %+v: applied %v, %q, %v", e, applied, reason, err)
	}
}

// delivery returns ann's delivery of an announcement.
func (b *eventsBundle) delivery(t *testing.T, announcement int64) ledger.Delivery {
	t.Helper()
	d, ok := b.Deliveries(t, announcement)["ann@acme.test"]
	if !ok {
		t.Fatalf("announcement %d has no delivery to ann", announcement)
	}
	return d
}

// conforms fails the test unless body is an instance of the served OpenAPI
// document's schema name.
func (b *eventsBundle) conforms(t *testing.T, name string, body []byte) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/openapi.json"}).body)
	if err != nil {
		t.Fatal(err)
	}
	schema := doc.Components.Schemas[name]
	if schema == nil {
		t.Fatalf("openapi.json has no schema %s", name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.Value.VisitJSON(v); err != nil {
		t.Errorf("the answer is no %s: %v\n%s", name, err, body)
	}
}

// TestContactDeliveryEvents reads a person's history after a delay notice
// and a hard bounce came back about a release notice and a complaint about
// an invoice reminder: each delivery lists its events oldest first (an
// empty list when none came), the complaint is marked on the reminder
// (which it does not stop), and the deliveries of an announcement are
// filtered by bounced.
func TestContactDeliveryEvents(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setupEvents(t, database)
		// What comes back comes hours after the mail left.
		b.Clock.Add(3 * time.Hour)
		now := b.Clock.Now().UTC().Truncate(time.Second)
		release, reminder := b.delivery(t, b.release), b.delivery(t, b.reminder)
		b.record(t, bounce.Event{Kind: bounce.Delay, Delivery: release.ID, Recipient: "ann@acme.test", Code: "4.4.7",
			Diagnostic: "451 4.4.7 still trying", Source: "smtp", EventID: "<delay@mx.acme.test>", At: now.Add(-2 * time.Hour)})
		b.record(t, bounce.Event{Kind: bounce.Hard, Delivery: release.ID, Recipient: "ann@acme.test", Code: "5.1.1",
			Diagnostic: "550 5.1.1 user unknown", Mailbox: true, Source: "smtp", EventID: "<dsn@mx.acme.test>", At: now.Add(-time.Hour)})
		b.record(t, bounce.Event{Kind: bounce.Complaint, Delivery: reminder.ID, Recipient: "ann@acme.test",
			Source: "postmark", EventID: "pm-1", At: now.Add(-30 * time.Minute)})

		t.Run("EachDeliveryWithItsEvents", func(t *testing.T) {
			res := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/ann@acme.test/deliveries"})
			b.conforms(t, "PersonDeliveryList", res.body)
			got := decodeInto[struct {
				Items []eventfulDeliveryJSON `json:"items"`
			}](t, res)
			if len(got.Items) != 3 {
				t.Fatalf("history: %+v", got.Items)
			}
			broadcast, rem, rel := got.Items[0], got.Items[1], got.Items[2]
			if rel.AnnouncementID != b.release || rem.AnnouncementID != b.reminder || broadcast.AnnouncementID != b.broadcast {
				t.Fatalf("history out of order: %+v", got.Items)
			}

			want := []eventJSON{
				{Kind: "delay", Code: "4.4.7", Diagnostic: "451 4.4.7 still trying", Source: "smtp", OccurredAt: now.Add(-2 * time.Hour)},
				{Kind: "hard", Code: "5.1.1", Diagnostic: "550 5.1.1 user unknown", Source: "smtp", OccurredAt: now.Add(-time.Hour)},
			}
			if diff := cmp.Diff(want, rel.Events); diff != "" {
				t.Errorf("events of the release notice (-want +got):\n%s", diff)
			}
			if rel.Status != "bounced" || !strings.Contains(rel.Reason, "5.1.1") || rel.ComplainedAt != nil {
				t.Errorf("the release notice: %+v", rel)
			}
			// The bounce came after the message left: it ended when it
			// was sent.
			if rel.FinishedAt == nil || rel.SentAt == nil || !rel.FinishedAt.Equal(*rel.SentAt) {
				t.Errorf("the bounced delivery ended at %v, sent at %v", rel.FinishedAt, rel.SentAt)
			}

			want = []eventJSON{{Kind: "complaint", Source: "postmark", OccurredAt: now.Add(-30 * time.Minute)}}
			if diff := cmp.Diff(want, rem.Events); diff != "" {
				t.Errorf("events of the invoice reminder (-want +got):\n%s", diff)
			}
			if rem.Kind != "invoice_reminder" || rem.Status != "sent" || rem.ComplainedAt == nil {
				t.Errorf("the invoice reminder is not marked as complained about: %+v", rem)
			}
			if rem.FinishedAt == nil || rem.SentAt == nil || !rem.FinishedAt.Equal(*rem.SentAt) {
				t.Errorf("the complaint moved when the reminder ended: %v, sent at %v", rem.FinishedAt, rem.SentAt)
			}

			if broadcast.Events == nil || len(broadcast.Events) != 0 || broadcast.ComplainedAt != nil {
				t.Errorf("the broadcast: events %#v, complained at %v; want an empty list and null", broadcast.Events, broadcast.ComplainedAt)
			}
		})

		// The events applied are counted once each, through the registry
		// that /metrics serves; a repeat is not counted again.
		t.Run("CountsAppliedEvents", func(t *testing.T) {
			sink, err := b.OpenBounceSink(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if applied, _, err := sink.Record(context.Background(), bounce.Event{Kind: bounce.Complaint, Delivery: reminder.ID,
				Source: "postmark", EventID: "pm-1"}); err != nil || applied {
				t.Fatalf("a repeat: applied %v, %v", applied, err)
			}
			families := b.scrape(t)
			for _, tc := range []struct {
				kind, source string
				want         float64
			}{
				{"delay", "smtp", 1}, {"hard", "smtp", 1}, {"complaint", "postmark", 1},
			} {
				m := sample(families, "herald_delivery_events_total", map[string]string{"kind": tc.kind, "source": tc.source})
				if got := m.GetCounter().GetValue(); got != tc.want {
					t.Errorf("herald_delivery_events_total{kind=%q,source=%q} = %v, want %v", tc.kind, tc.source, got, tc.want)
				}
			}
			if m := sample(families, "herald_deliveries_total", map[string]string{"outcome": "sent"}); m.GetCounter().GetValue() == 0 {
				t.Error("herald_deliveries_total{outcome=\"sent\"}, which the README's rates divide by, is not counted")
			}
		})

		t.Run("FiltersByBounced", func(t *testing.T) {
			got := decodeInto[personDeliveryListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/ann@acme.test/deliveries?status=bounced"}))
			if len(got.Items) != 1 || got.Items[0].AnnouncementID != b.release {
				t.Errorf("bounced only: %+v", got.Items)
			}
		})

		t.Run("AnnouncementDeliveries", func(t *testing.T) {
			res := b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d/deliveries?status=bounced", b.release)})
			b.conforms(t, "DeliveryList", res.body)
			bounced := decodeInto[struct {
				Items []struct {
					Email, Status, Reason string
				} `json:"items"`
			}](t, res)
			if len(bounced.Items) != 1 || bounced.Items[0].Email != "ann@acme.test" || !strings.Contains(bounced.Items[0].Reason, "hard bounce") {
				t.Errorf("bounced deliveries of the release notice: %+v", bounced.Items)
			}
			if got := decodeInto[personDeliveryListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d/deliveries?status=bounced", b.reminder)})); len(got.Items) != 0 {
				t.Errorf("the reminder has bounced deliveries: %+v", got.Items)
			}

			res = b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d/deliveries", b.reminder)})
			b.conforms(t, "DeliveryList", res.body)
			complained := decodeInto[struct {
				Items []struct {
					Status       string     `json:"status"`
					ComplainedAt *time.Time `json:"complained_at"`
				} `json:"items"`
			}](t, res)
			if len(complained.Items) != 1 || complained.Items[0].Status != "sent" || complained.Items[0].ComplainedAt == nil {
				t.Errorf("deliveries of the reminder: %+v", complained.Items)
			}

			a := decodeInto[struct {
				Counts ledger.Counts `json:"counts"`
			}](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d", b.reminder)}))
			if a.Counts.Complained != 1 || a.Counts.Sent != 1 {
				t.Errorf("counts of the reminder: %+v", a.Counts)
			}
		})
	})
}
