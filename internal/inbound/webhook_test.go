package inbound_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/inbound"
	"github.com/heraldhq/herald/internal/metrics"
)

// The delivery and announcement that the test messages are about, and
// the recipient.
const (
	delivery     = 4711
	announcement = 12
	email        = "ann@acme.test"
	secret       = "a secret of thirty-two bytes or more"
	topicARN     = "arn:aws:sns:eu-west-1:123456789012:herald-bounces"
	postmarkUser = "postmark"
	postmarkPass = "a-long-enough-password"
	mailgunKey   = "key-0123456789abcdef0123456789abcdef"
)

type testBundle struct {
	URL      string
	DB       *db.DB
	Sink     *apptest.Bounces
	Refs     *bounce.Refs
	Fetcher  *snsFetcher
	Metrics  *metrics.Metrics
	Webhooks *inbound.Webhooks
	Now      time.Time
	SendGrid *ecdsa.PrivateKey
	SNS      *snsSigner
}

// now is the tests' clock: the testdata's events happened the day before.
var now = time.Date(2026, 8, 2, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T, database dbtest.Database) *testBundle {
	t.Helper()
	sgKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&sgKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := bounce.NewRefs([]byte(secret), "")
	if err != nil {
		t.Fatal(err)
	}
	b := &testBundle{
		DB: database.Open(t), Sink: &apptest.Bounces{}, Refs: refs, Metrics: metrics.New(), Now: now,
		SendGrid: sgKey, SNS: newSNSSigner(t),
	}
	b.Fetcher = &snsFetcher{bodies: map[string][]byte{b.SNS.certURL: b.SNS.certPEM}}
	cfg := config.Webhooks{
		PostmarkAuth:      postmarkUser + ":" + postmarkPass,
		SendGridKey:       base64.StdEncoding.EncodeToString(der),
		MailgunSigningKey: mailgunKey,
		SESTopicARN:       topicARN,
	}
	b.Webhooks, err = inbound.NewWebhooks(cfg, inbound.WebhookDeps{
		Sink: b.Sink, Refs: refs, DB: b.DB, Fetcher: b.Fetcher, Metrics: b.Metrics,
		Now: func() time.Time { return b.Now },
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Webhooks)
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

// testdata reads a payload and fills in its placeholders.
func (b *testBundle) testdata(t *testing.T, name string, more ...string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	// more comes first: a replacer takes the first pair for a placeholder.
	pairs := append(slices.Clone(more),
		"{{EMAIL}}", email,
		"{{TOKEN}}", b.Refs.Token(delivery),
		"{{MESSAGE_ID}}", b.Refs.MessageID(delivery, announcement, "vendor.test"),
	)
	return []byte(strings.NewReplacer(pairs...).Replace(string(raw)))
}

// post sends a webhook request and returns its status and body.
func (b *testBundle) post(t *testing.T, path string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(got)
}

// mustStatus checks a request's status and, for a refusal, its JSON error.
func mustStatus(t *testing.T, want, status int, body string) {
	t.Helper()
	if status != want {
		t.Fatalf("status %d, want %d; body %s", status, want, body)
	}
	if want >= 400 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Errorf("a %d answers %q, want a short JSON error", want, body)
		}
	}
}

// ignoreAt leaves the times of events out of comparisons that are not
// about them.
var ignoreAt = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".At" }, cmp.Ignore())

func TestUnconfiguredWebhooksAreNotFound(t *testing.T) {
	t.Parallel()
	refs, err := bounce.NewRefs([]byte(secret), "")
	if err != nil {
		t.Fatal(err)
	}
	w, err := inbound.NewWebhooks(config.Webhooks{}, inbound.WebhookDeps{Sink: &apptest.Bounces{}, Refs: refs, DB: dbtest.SQLite.Open(t)})
	if err != nil {
		t.Fatal(err)
	}
	if w.Enabled() {
		t.Error("Enabled with no setting")
	}
	for _, source := range []string{"postmark", "sendgrid", "mailgun", "ses"} {
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhooks/"+source, strings.NewReader("{}")))
		if rec.Code != http.StatusNotFound {
			t.Errorf("POST /webhooks/%s without its setting: %d, want 404", source, rec.Code)
		}
	}
}

func TestCommonLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	for _, source := range []string{"postmark", "sendgrid", "mailgun", "ses"} {
		t.Run(source, func(t *testing.T) {
			t.Run("OversizedIs413", func(t *testing.T) {
				status, body := b.post(t, "/webhooks/"+source, bytes.Repeat([]byte(" "), inbound.MaxWebhookBody+1), nil)
				mustStatus(t, http.StatusRequestEntityTooLarge, status, body)
			})
			t.Run("GetIs405", func(t *testing.T) {
				resp, err := http.Get(b.URL + "/webhooks/" + source)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
					t.Errorf("GET: %d, Allow %q; want 405, POST", resp.StatusCode, resp.Header.Get("Allow"))
				}
			})
			t.Run("UnsignedIs401", func(t *testing.T) {
				status, body := b.post(t, "/webhooks/"+source, []byte(`{}`), nil)
				mustStatus(t, http.StatusUnauthorized, status, body)
			})
		})
	}
	if got := b.Sink.Events(); len(got) != 0 {
		t.Errorf("refused requests recorded %v", got)
	}
}

// want is an event about the test delivery, as the sink should get it.
func want(kind bounce.Kind, source, id, code, diagnostic string, mailbox bool) bounce.Event {
	return bounce.Event{Kind: kind, Delivery: delivery, Recipient: email, Code: code, Diagnostic: diagnostic,
		Mailbox: mailbox, Source: source, EventID: id}
}

func checkEvents(t *testing.T, sink *apptest.Bounces, wantEvents ...bounce.Event) {
	t.Helper()
	if diff := cmp.Diff(wantEvents, sink.Events(), ignoreAt); diff != "" {
		t.Errorf("events recorded (-want +got):\n%s", diff)
	}
}

func basicAuth(user, pass string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
}

func TestPostmark(t *testing.T) {
	t.Parallel()
	auth := basicAuth(postmarkUser, postmarkPass)
	hard := want(bounce.Hard, "postmark", "4323372036854775807", "5.1.1",
		"smtp;550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.", true)

	t.Run("BounceNamesItsDeliveryByMetadata", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		status, body := b.post(t, "/webhooks/postmark", b.testdata(t, "postmark_bounce.json"), auth)
		mustStatus(t, http.StatusOK, status, body)
		checkEvents(t, b.Sink, hard)
		if at := b.Sink.Events()[0].At; !at.Equal(time.Date(2026, 8, 1, 17, 28, 10, 273539300, time.UTC)) {
			t.Errorf("At = %v, want BouncedAt", at)
		}
	})
	t.Run("SpamComplaint", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		status, body := b.post(t, "/webhooks/postmark", b.testdata(t, "postmark_spam_complaint.json"), auth)
		mustStatus(t, http.StatusOK, status, body)
		checkEvents(t, b.Sink, want(bounce.Complaint, "postmark", "42", "", "", false))
	})
	t.Run("DeliveryIsIgnored", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		status, body := b.post(t, "/webhooks/postmark", b.testdata(t, "postmark_delivery.json"), auth)
		mustStatus(t, http.StatusOK, status, body)
		checkEvents(t, b.Sink)
	})
	t.Run("RepeatIsAppliedOnce", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		for range 2 {
			status, body := b.post(t, "/webhooks/postmark", b.testdata(t, "postmark_bounce.json"), auth)
			mustStatus(t, http.StatusOK, status, body)
		}
		checkEvents(t, b.Sink, hard)
		checkMetric(t, b.Metrics, `herald_webhook_events_total{outcome="not_applied",source="postmark"} 1`)
	})
	t.Run("ForgedTokenNamesNoDelivery", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		other, err := bounce.NewRefs([]byte("another secret of thirty-two bytes"), "")
		if err != nil {
			t.Fatal(err)
		}
		status, body := b.post(t, "/webhooks/postmark", b.testdata(t, "postmark_bounce.json", "{{TOKEN}}", other.Token(delivery)), auth)
		mustStatus(t, http.StatusOK, status, body) // else Postmark retries what will never verify
		checkEvents(t, b.Sink)
		checkMetric(t, b.Metrics, `herald_webhook_events_total{outcome="unmatched",source="postmark"} 1`)
	})
	for name, h := range map[string]http.Header{
		"WrongPassword": basicAuth(postmarkUser, postmarkPass+"x"),
		"WrongUser":     basicAuth("someone", postmarkPass),
		"NoAuth":        nil,
		"Bearer":        {"Authorization": {"Bearer " + postmarkPass}},
	} {
		t.Run(name+"Is401", func(t *testing.T) {
			b := setup(t, dbtest.SQLite)
			status, body := b.post(t, "/webhooks/postmark", b.testdata(t, "postmark_bounce.json"), h)
			mustStatus(t, http.StatusUnauthorized, status, body)
			checkEvents(t, b.Sink)
			checkMetric(t, b.Metrics, `herald_webhook_refused_total{reason="unauthorized",source="postmark"} 1`)
		})
	}
	t.Run("MalformedIs400", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		for _, body := range []string{`{"RecordType": "Bounce", "ID": "x", "Type": "HardBounce"}`, `[1, 2]`, `{`, `{}`} {
			status, got := b.post(t, "/webhooks/postmark", []byte(body), auth)
			mustStatus(t, http.StatusBadRequest, status, got)
		}
		checkEvents(t, b.Sink)
	})
}

// sendgridHeaders signs body as SendGrid does, at ts, with key.
func sendgridHeaders(t *testing.T, key *ecdsa.PrivateKey, ts time.Time, body []byte) http.Header {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	digest := sha256.Sum256(append([]byte(stamp), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{
		"X-Twilio-Email-Event-Webhook-Signature": {base64.StdEncoding.EncodeToString(sig)},
		"X-Twilio-Email-Event-Webhook-Timestamp": {stamp},
	}
}

func TestSendGrid(t *testing.T) {
	t.Parallel()
	batch := []bounce.Event{
		want(bounce.Delay, "sendgrid", "qK1MxfAaE_ukyyNsjxTpkw==", "4.2.2", "400 4.2.2 try again later, the mailbox is full", false),
		want(bounce.Hard, "sendgrid", "6g4ZI7SA-xmRDv57GoPIPw==", "5.1.1", "550 5.1.1 The email account that you tried to reach does not exist.", true),
		want(bounce.Complaint, "sendgrid", "37nvH5QBz858KGVYCM4uOA==", "", "", false),
	}

	t.Run("BatchNamesItsDeliveriesByMessageID", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		body := b.testdata(t, "sendgrid_events.json")
		status, got := b.post(t, "/webhooks/sendgrid", body, sendgridHeaders(t, b.SendGrid, b.Now, body))
		mustStatus(t, http.StatusOK, status, got)
		checkEvents(t, b.Sink, batch...)
		checkMetric(t, b.Metrics, `herald_webhook_events_total{outcome="ignored",source="sendgrid"} 1`)
		if at := b.Sink.Events()[1].At; !at.Equal(time.Unix(1785600020, 0)) {
			t.Errorf("At = %v, want the event's timestamp", at)
		}
	})
	t.Run("BlockedIsSoft", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		body := b.testdata(t, "sendgrid_blocked.json")
		status, got := b.post(t, "/webhooks/sendgrid", body, sendgridHeaders(t, b.SendGrid, b.Now, body))
		mustStatus(t, http.StatusOK, status, got)
		checkEvents(t, b.Sink, want(bounce.Soft, "sendgrid", "X2nM9dPnQH2e6Vx5c6wB2g==", "5.7.1", "550 5.7.1 Service unavailable; client host blocked using Spamhaus", false))
	})
	t.Run("ReplayIsAppliedOnce", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		body := b.testdata(t, "sendgrid_events.json")
		h := sendgridHeaders(t, b.SendGrid, b.Now, body)
		for range 2 {
			status, got := b.post(t, "/webhooks/sendgrid", body, h)
			mustStatus(t, http.StatusOK, status, got)
		}
		checkEvents(t, b.Sink, batch...)
	})
	t.Run("ForgedMessageIDNamesNoDelivery", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		forged := strings.Replace(b.Refs.MessageID(delivery, announcement, "vendor.test"), fmt.Sprint(delivery), "4712", 1)
		body := b.testdata(t, "sendgrid_blocked.json", "{{MESSAGE_ID}}", forged)
		status, got := b.post(t, "/webhooks/sendgrid", body, sendgridHeaders(t, b.SendGrid, b.Now, body))
		mustStatus(t, http.StatusOK, status, got)
		checkEvents(t, b.Sink)
	})

	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		header func(b *testBundle, body []byte) http.Header
		body   func(body []byte) []byte
	}{
		{name: "WrongKey", header: func(b *testBundle, body []byte) http.Header { return sendgridHeaders(t, otherKey, b.Now, body) }},
		{name: "BodyChangedAfterSigning", header: func(b *testBundle, body []byte) http.Header {
			return sendgridHeaders(t, b.SendGrid, b.Now, body)
		}, body: func(body []byte) []byte { return bytes.Replace(body, []byte(`"blocked"`), []byte(`"bounce"`), 1) }},
		{name: "TimestampChangedAfterSigning", header: func(b *testBundle, body []byte) http.Header {
			h := sendgridHeaders(t, b.SendGrid, b.Now, body)
			h.Set("X-Twilio-Email-Event-Webhook-Timestamp", strconv.FormatInt(b.Now.Unix()+1, 10))
			return h
		}},
		{name: "Stale", header: func(b *testBundle, body []byte) http.Header {
			return sendgridHeaders(t, b.SendGrid, b.Now.Add(-73*time.Hour), body)
		}},
		{name: "FromTheFuture", header: func(b *testBundle, body []byte) http.Header {
			return sendgridHeaders(t, b.SendGrid, b.Now.Add(10*time.Minute), body)
		}},
		{name: "SignatureNotBase64", header: func(b *testBundle, body []byte) http.Header {
			h := sendgridHeaders(t, b.SendGrid, b.Now, body)
			h.Set("X-Twilio-Email-Event-Webhook-Signature", "%%%")
			return h
		}},
	} {
		t.Run(tc.name+"Is401", func(t *testing.T) {
			b := setup(t, dbtest.SQLite)
			body := b.testdata(t, "sendgrid_blocked.json")
			h := tc.header(b, body)
			if tc.body != nil {
				body = tc.body(body)
			}
			status, got := b.post(t, "/webhooks/sendgrid", body, h)
			mustStatus(t, http.StatusUnauthorized, status, got)
			checkEvents(t, b.Sink)
		})
	}
	t.Run("SignedButMalformedIs400", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		for _, body := range []string{`{"event": "bounce"}`, `[{"event": "bounce", "email": "ann@acme.test"}]`} {
			status, got := b.post(t, "/webhooks/sendgrid", []byte(body), sendgridHeaders(t, b.SendGrid, b.Now, []byte(body)))
			mustStatus(t, http.StatusBadRequest, status, got)
		}
		checkEvents(t, b.Sink)
	})
}

// mailgunBody fills a Mailgun payload with a signature of token at ts.
func (b *testBundle) mailgunBody(t *testing.T, name, key, token string, ts time.Time) []byte {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(stamp + token))
	return b.testdata(t, name, "{{TIMESTAMP}}", stamp, "{{MG_TOKEN}}", token, "{{MG_SIGNATURE}}", hex.EncodeToString(mac.Sum(nil)))
}

func TestMailgun(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("Events", func(t *testing.T) {
			b := setup(t, database)
			for i, name := range []string{"mailgun_failed_permanent.json", "mailgun_failed_temporary.json", "mailgun_complained.json"} {
				status, got := b.post(t, "/webhooks/mailgun", b.mailgunBody(t, name, mailgunKey, fmt.Sprintf("token%050d", i), b.Now), nil)
				mustStatus(t, http.StatusOK, status, got)
			}
			checkEvents(t, b.Sink,
				want(bounce.Hard, "mailgun", "G9Bn5sl1TC6nu79C8C0bwg", "5.1.1", "550 No such user here", true),
				want(bounce.Delay, "mailgun", "Fs7-5t81S2ahJ-w9NuWFSg", "4.2.2", "452 4.2.2 The email account that you tried to reach is over quota.", false),
				want(bounce.Complaint, "mailgun", "-Agny091SquKnsrW2NEKUA", "", "", false),
			)
		})
		t.Run("TokenReuseWithAnotherBodyIs401", func(t *testing.T) {
			b := setup(t, database)
			token := strings.Repeat("a", 50)
			status, got := b.post(t, "/webhooks/mailgun", b.mailgunBody(t, "mailgun_failed_temporary.json", mailgunKey, token, b.Now), nil)
			mustStatus(t, http.StatusOK, status, got)
			// The same signature on a body that says something else.
			status, got = b.post(t, "/webhooks/mailgun", b.mailgunBody(t, "mailgun_failed_permanent.json", mailgunKey, token, b.Now), nil)
			mustStatus(t, http.StatusUnauthorized, status, got)
			checkEvents(t, b.Sink, want(bounce.Delay, "mailgun", "Fs7-5t81S2ahJ-w9NuWFSg", "4.2.2", "452 4.2.2 The email account that you tried to reach is over quota.", false))
		})
		t.Run("SeenTokensArePrunedPastTheWindow", func(t *testing.T) {
			b := setup(t, database)
			for i := range 3 {
				body := b.mailgunBody(t, "mailgun_complained.json", mailgunKey, fmt.Sprintf("old%047d", i), b.Now)
				status, got := b.post(t, "/webhooks/mailgun", body, nil)
				mustStatus(t, http.StatusOK, status, got)
			}
			b.Now = b.Now.Add(11 * time.Minute)
			status, got := b.post(t, "/webhooks/mailgun", b.mailgunBody(t, "mailgun_complained.json", mailgunKey, strings.Repeat("n", 50), b.Now), nil)
			mustStatus(t, http.StatusOK, status, got)
			var n int
			if err := db.Get(context.Background(), b.DB, &n, `SELECT COUNT(*) FROM webhook_tokens`); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("%d seen tokens kept, want only the one within the window", n)
			}
		})
		for _, tc := range []struct {
			name, key string
			at        time.Duration
		}{
			{"WrongKey", "key-ffffffffffffffffffffffffffffffff", 0},
			{"Stale", mailgunKey, -6 * time.Minute},
			{"FromTheFuture", mailgunKey, 6 * time.Minute},
		} {
			t.Run(tc.name+"Is401", func(t *testing.T) {
				b := setup(t, database)
				body := b.mailgunBody(t, "mailgun_failed_permanent.json", tc.key, strings.Repeat("t", 50), b.Now.Add(tc.at))
				status, got := b.post(t, "/webhooks/mailgun", body, nil)
				mustStatus(t, http.StatusUnauthorized, status, got)
				checkEvents(t, b.Sink)
			})
		}
	})
}

func checkMetric(t *testing.T, m *metrics.Metrics, line string) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(rec.Body.String(), line) {
		t.Errorf("/metrics lacks %s", line)
	}
}
