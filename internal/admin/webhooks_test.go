package admin_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// noFetch is an SNS that is never reached: the test confirms nothing.
type noFetch struct{}

func (noFetch) Fetch(context.Context, string, int64) ([]byte, error) {
	return nil, errors.New("no network in this test")
}

// TestWebhooksOnThePublicListener checks that herald, as the app wires
// it, serves the webhooks on the public listener only, without a bearer
// token, and the SES subscriptions on the API with one.
func TestWebhooksOnThePublicListener(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		sink := &apptest.Bounces{}
		b := &testBundle{apptest.Start(t, apptest.Options{Database: database, API: true, Public: true,
			BounceSink: sink, WebhookFetcher: noFetch{},
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
		post := func(base, path string) int {
			t.Helper()
			body := `{"RecordType":"SpamComplaint","ID":7,"Type":"SpamComplaint","Email":"ann@acme.test","Metadata":{"herald-delivery":"` + refs.Token(99) + `"}}`
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
		events := sink.Events()
		if len(events) != 1 || events[0].Delivery != 99 || events[0].Kind != bounce.Complaint {
			t.Errorf("events %+v, want the complaint about delivery 99", events)
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
