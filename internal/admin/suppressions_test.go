package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/smtptest"
)

// suppressionJSON is a suppression as the API shows it.
type suppressionJSON struct {
	Email        string     `json:"email"`
	Reply        string     `json:"reply"`
	Code         *int       `json:"code"`
	Enhanced     string     `json:"enhanced"`
	DeliveryID   *int64     `json:"delivery_id"`
	SuppressedAt time.Time  `json:"suppressed_at"`
	LiftedAt     *time.Time `json:"lifted_at"`
	LiftedBy     string     `json:"lifted_by"`
}

type suppressionListJSON struct {
	Items []suppressionJSON `json:"items"`
	Next  *string           `json:"next"`
}

// decodeInto decodes an answer's body into a T.
func decodeInto[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	decode(t, res, &v)
	return v
}

// decode decodes an answer's body into v.
func decode(t *testing.T, res response, v any) {
	t.Helper()
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("decode %s: %v", res.body, err)
	}
}

func TestSuppressions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		// ann, bob and cy are suppressed; dee is a contact who is not.
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts", body: `{"email":"dee@acme.test","role":"billing"}`})
		refused := map[string]contacts.Suppression{
			"ann@acme.test": {Reply: "550 5.1.1 <ann@acme.test>: no such user", Code: 550, Enhanced: "5.1.1", DeliveryID: 42},
			"bob@acme.test": {Reply: "550 5.7.1 relay denied", Code: 550, Enhanced: "5.7.1", DeliveryID: 43},
			"cy@acme.test":  {Reply: "hard bounce"},
		}
		suppressedAt := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
		b.Clock.Set(suppressedAt)
		for email, why := range refused {
			if err := b.Contacts.Suppress(ctx, email, why); err != nil {
				t.Fatal(err)
			}
		}
		view := func(email string) suppressionJSON {
			why := refused[email]
			v := suppressionJSON{Email: email, Reply: why.Reply, Enhanced: why.Enhanced, SuppressedAt: suppressedAt}
			if why.Code != 0 {
				v.Code = &why.Code
			}
			if why.DeliveryID != 0 {
				v.DeliveryID = &why.DeliveryID
			}
			return v
		}

		t.Run("ListIsByEmailAndPages", func(t *testing.T) {
			first := decodeInto[suppressionListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/suppressions?limit=2"}))
			if diff := cmp.Diff([]suppressionJSON{view("ann@acme.test"), view("bob@acme.test")}, first.Items); diff != "" {
				t.Errorf("first page (-want +got):\n%s", diff)
			}
			if first.Next == nil {
				t.Fatal("first page has no next cursor")
			}
			second := decodeInto[suppressionListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/suppressions?limit=2&after=" + *first.Next}))
			if diff := cmp.Diff([]suppressionJSON{view("cy@acme.test")}, second.Items); diff != "" {
				t.Errorf("second page (-want +got):\n%s", diff)
			}
			if second.Next != nil {
				t.Errorf("last page's next = %q, want null", *second.Next)
			}
			// null, not 0, when a code or delivery is not known
			raw := string(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/suppressions?email=cy@acme.test"}).body)
			if !strings.Contains(raw, `"code":null`) || !strings.Contains(raw, `"delivery_id":null`) || strings.Contains(raw, "lifted") {
				t.Errorf("cy's suppression: %s", raw)
			}
		})

		t.Run("FilterByEmail", func(t *testing.T) {
			for _, tt := range []struct {
				email string
				want  []suppressionJSON
			}{
				{"BOB@acme.test", []suppressionJSON{view("bob@acme.test")}},
				{"dee@acme.test", []suppressionJSON{}},
				{"nobody@acme.test", []suppressionJSON{}},
			} {
				got := decodeInto[suppressionListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/suppressions?email=" + tt.email}))
				if diff := cmp.Diff(tt.want, got.Items); diff != "" {
					t.Errorf("?email=%s (-want +got):\n%s", tt.email, diff)
				}
			}
		})

		t.Run("ContactViewShowsTheSuppression", func(t *testing.T) {
			var contact struct {
				Suppressed       bool             `json:"suppressed"`
				SuppressedReason string           `json:"suppressed_reason"`
				Suppression      *suppressionJSON `json:"suppression"`
			}
			decode(t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/ann@acme.test"}), &contact)
			want := view("ann@acme.test")
			if !contact.Suppressed || contact.SuppressedReason != want.Reply {
				t.Errorf("ann: suppressed %v, reason %q", contact.Suppressed, contact.SuppressedReason)
			}
			if diff := cmp.Diff(&want, contact.Suppression); diff != "" {
				t.Errorf("ann's suppression (-want +got):\n%s", diff)
			}
			raw := string(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/dee@acme.test"}).body)
			if !strings.Contains(raw, `"suppressed":false`) || strings.Contains(raw, "suppression") {
				t.Errorf("dee, not suppressed: %s", raw)
			}
		})

		t.Run("BadInputNamesTheField", func(t *testing.T) {
			before := b.snapshot(t)
			for _, tt := range []struct {
				method, path, field string
			}{
				{"GET", "/api/v1/suppressions?email=not-an-address", "email"},
				{"GET", "/api/v1/suppressions?email=ann@localhost", "email"},
				{"GET", "/api/v1/suppressions?limit=501", "limit"},
				{"GET", "/api/v1/suppressions?limit=many", "limit"},
				{"GET", "/api/v1/suppressions?after=%25%25", "after"},
				{"DELETE", "/api/v1/suppressions/not-an-address", "email"},
				{"DELETE", "/api/v1/suppressions/%22Ann%22%20%3Cann@acme.test%3E", "email"},
			} {
				code, field := b.mustDo(t, http.StatusBadRequest, request{method: tt.method, path: tt.path}).apiError(t)
				if code != "invalid" || field != tt.field {
					t.Errorf("%s %s: %s in %q, want invalid in %q", tt.method, tt.path, code, field, tt.field)
				}
			}
			if after := b.snapshot(t); after != before {
				t.Errorf("refused requests changed something:\n%s\n---\n%s", before, after)
			}
		})

		t.Run("TokenRequired", func(t *testing.T) {
			for _, token := range []string{"", "hrld_not_a_token"} {
				b.mustDo(t, http.StatusUnauthorized, request{method: "GET", path: "/api/v1/suppressions", token: &token})
				b.mustDo(t, http.StatusUnauthorized, request{method: "DELETE", path: "/api/v1/suppressions/ann@acme.test", token: &token})
			}
			got := decodeInto[suppressionListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/suppressions?email=ann@acme.test"}))
			if len(got.Items) != 1 {
				t.Errorf("ann after refused lifts: %+v, want still suppressed", got.Items)
			}
		})

		t.Run("LiftRecordsTheToken", func(t *testing.T) {
			secret, err := b.Tokens.Create(ctx, "ops", contacts.Actor{Via: contacts.ViaCLI, Name: "test"})
			if err != nil {
				t.Fatal(err)
			}
			liftedAt := suppressedAt.Add(time.Hour)
			b.Clock.Set(liftedAt)

			res := b.mustDo(t, http.StatusOK, request{method: "DELETE", path: "/api/v1/suppressions/Ann@Acme.test", token: &secret})

			want := view("ann@acme.test")
			want.LiftedAt, want.LiftedBy = &liftedAt, "token:ops"
			if diff := cmp.Diff(want, decodeInto[suppressionJSON](t, res)); diff != "" {
				t.Errorf("lifted (-want +got):\n%s", diff)
			}

			raw := string(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/ann@acme.test"}).body)
			if !strings.Contains(raw, `"suppressed":false`) || strings.Contains(raw, "suppression") {
				t.Errorf("ann after the lift: %s", raw)
			}
			got := decodeInto[suppressionListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/suppressions"}))
			if diff := cmp.Diff([]suppressionJSON{view("bob@acme.test"), view("cy@acme.test")}, got.Items); diff != "" {
				t.Errorf("suppressions after the lift (-want +got):\n%s", diff)
			}
		})

		t.Run("LiftingWhatIsNotSuppressedIsNotFound", func(t *testing.T) {
			for _, email := range []string{"ann@acme.test", "dee@acme.test", "nobody@acme.test"} {
				if code, _ := b.mustDo(t, http.StatusNotFound, request{method: "DELETE", path: "/api/v1/suppressions/" + email}).apiError(t); code != "not_found" {
					t.Errorf("DELETE %s: code %s, want not_found", email, code)
				}
			}
		})
	})
}

// TestRelayRefusingEveryoneIsUndone is the case suppressions were made
// reversible for: a relay answers 550 to every recipient, which suppresses
// them all. Once the relay is fixed, lifting the suppressions of those who
// do take mail and retrying the failed deliveries reaches them; a mailbox
// that is really gone stays suppressed and is not retried, and every
// delivery keeps the reply it last got.
func TestRelayRefusingEveryoneIsUndone(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		var broken atomic.Bool
		broken.Store(true)
		b := &testBundle{apptest.Start(t, apptest.Options{Database: database, API: true, Workers: true, SMTP: func(s *smtptest.Server) {
			s.Rcpt = func(to string) error {
				if broken.Load() || to == "bob@acme.test" {
					// A misconfigured relay says "no such user" of
					// everyone: the mailbox code suppresses each address.
					return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user here")
				}
				return nil
			}
		}})}
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		var created struct {
			AnnouncementID int64 `json:"announcement_id"`
		}
		decode(t, b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: `{"product":"jira","version":"9.4.0"}`}), &created)
		id := created.AnnouncementID
		a := b.WaitDone(t, id)
		if a.Counts.Failed != 2 || b.SMTP.Accepted() != 0 {
			t.Fatalf("with the relay refusing everyone: %+v, %d accepted; want both technical contacts failed", a.Counts, b.SMTP.Accepted())
		}
		suppressed := decodeInto[suppressionListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/suppressions"}))
		if len(suppressed.Items) != 2 {
			t.Fatalf("suppressions: %+v, want ann and bob", suppressed.Items)
		}
		deliveries := b.Deliveries(t, id)
		for _, s := range suppressed.Items {
			if s.Code == nil || *s.Code != 550 || s.DeliveryID == nil || *s.DeliveryID != deliveries[s.Email].ID || !strings.Contains(s.Reply, "no such user here") {
				t.Errorf("suppression of %s: %+v, want code 550, delivery %d and the reply", s.Email, s, deliveries[s.Email].ID)
			}
		}

		// The relay is fixed; bob's mailbox is really gone.
		broken.Store(false)
		b.mustDo(t, http.StatusOK, request{method: "DELETE", path: "/api/v1/suppressions/ann@acme.test"})
		b.mustDo(t, http.StatusOK, request{method: "POST", path: fmt.Sprintf("/api/v1/announcements/%d/retry-failed", id)})
		a = b.WaitDone(t, id)

		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1}, b.SMTP.PerRecipient()); diff != "" {
			t.Errorf("accepted after the retry (-want +got):\n%s", diff)
		}
		if a.Counts.Sent != 1 || a.Counts.Skipped != 1 || a.Counts.Failed != 0 {
			t.Errorf("counts after the retry: %+v, want ann sent and bob skipped", a.Counts)
		}
		var page struct {
			Items []struct {
				Email, Status, Reason string
				LastError             string `json:"last_error"`
			}
		}
		decode(t, b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d/deliveries?status=skipped", id)}), &page)
		if len(page.Items) != 1 || page.Items[0].Email != "bob@acme.test" || page.Items[0].Reason != "suppressed" || !strings.Contains(page.Items[0].LastError, "no such user here") {
			t.Errorf("skipped deliveries: %+v, want bob, suppressed, with the relay's reply", page.Items)
		}
	})
}
