package admin_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// noFetch is an SNS that is never reached: the test confirms nothing.
type noFetch struct{}

func (noFetch) Fetch(context.Context, string, int64) ([]byte, error) {
	return nil, errors.New("no network in this test")
}

// TestWebhooksOnThePublicListener checks that herald, as the app wires
// it, serves the webhooks on the public listener only, without a bearer
// token, and the SES subscriptions on the API with one; and that an event
// lands on its delivery in the ledger.
func TestWebhooksOnThePublicListener(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := &testBundle{apptest.Start(t, apptest.Options{Database: database, API: true, Public: true, Workers: true,
			WebhookFetcher: noFetch{},
			Config: func(c *config.Config) {
				c.Webhooks.PostmarkAuth = "postmark:a-long-enough-password"
				c.Webhooks.SESTopicARN = "arn:aws:sns:eu-west-1:123456789012:herald-bounces"
			}})}
		ctx := context.Background()
		secret, err := unsubscribe.Secret(ctx, b.DB, "")
		if err != nil {
			t.Fatal(err)
		}
		refs, err := bounce.NewRefs(secret, "")
		if err != nil {
			t.Fatal(err)
		}
		b.License(t, "SEN-1", "jira", contacts.Active, apptest.Tech("ann@acme.test", "Ann"))
		a := b.WaitDone(t, b.Release(t, ledger.NewRelease{Product: "jira", Version: "9.4.0"}).ID)
		d := b.Deliveries(t, a.ID)["ann@acme.test"]
		post := func(base, path string) int {
			t.Helper()
			body := `{"RecordType":"SpamComplaint","ID":7,"Type":"SpamComplaint","Email":"ann@acme.test","Metadata":{"herald-delivery":"` + refs.Token(d.ID) + `"}}`
			req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("postmark:a-long-enough-password")))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := post(b.PublicURL, "/webhooks/postmark"); got != http.StatusOK {
			t.Fatalf("POST /webhooks/postmark on the public listener: %d, want 200", got)
		}
		if got, err := b.Ledger.Get(ctx, a.ID); err != nil || got.Counts.Complained != 1 {
			t.Errorf("counts %+v (%v), want the complaint counted", got.Counts, err)
		}
		if c, err := b.Contacts.GetContact(ctx, "ann@acme.test"); err != nil || !c.ReleaseOptOut {
			t.Errorf("ann %+v (%v): she complained about a release notice, and still gets them", c, err)
		}
		for _, path := range []string{"/webhooks/sendgrid", "/webhooks/other"} {
			if got := post(b.PublicURL, path); got != http.StatusNotFound {
				t.Errorf("POST %s (not configured): %d, want 404", path, got)
			}
		}
		if got := post(b.PublicURL, "/api/v1/webhooks/ses/subscriptions"); got != http.StatusNotFound {
			t.Errorf("the API on the public listener: %d, want 404", got)
		}
		list := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/webhooks/ses/subscriptions"}).json(t)
		if items, _ := list["items"].([]any); len(items) != 0 || list["next"] != nil {
			t.Errorf("subscriptions %v, want none", list)
		}
		res := b.mustDo(t, http.StatusNotFound, request{method: "POST", path: "/api/v1/webhooks/ses/subscriptions/1/confirm"})
		if code, _ := res.apiError(t); code != "not_found" {
			t.Errorf("confirming no subscription: %s, want not_found", code)
		}
		none := ""
		b.mustDo(t, http.StatusUnauthorized, request{method: "GET", path: "/api/v1/webhooks/ses/subscriptions", token: &none})
	})
}
