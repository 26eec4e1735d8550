package inbound_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/inbound"
)

// snsFetcher stands in for AWS: it serves the certificates and answers
// the SubscribeURLs it was given, and notes every URL asked for.
type snsFetcher struct {
	mu      sync.Mutex
	bodies  map[string][]byte
	fetched []string
}

func (f *snsFetcher) Fetch(_ context.Context, rawURL string, max int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetched = append(f.fetched, rawURL)
	body, ok := f.bodies[rawURL]
	if !ok {
		return nil, errors.New("404 Not Found")
	}
	if int64(len(body)) > max {
		return nil, errors.New("too large")
	}
	return body, nil
}

func (f *snsFetcher) urls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.fetched)
}

// snsSigner signs SNS messages as SNS does, with a certificate of its
// own served at certURL.
type snsSigner struct {
	key     *rsa.PrivateKey
	certURL string
	certPEM []byte
}

func newSNSSigner(t *testing.T) *snsSigner {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &snsSigner{key: key, certURL: "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// snsMessage is an SNS delivery as it comes over HTTP.
type snsMessage map[string]string

// sign signs m as SNS does, in SignatureVersion version.
func (s *snsSigner) sign(t *testing.T, m snsMessage, version string) snsMessage {
	t.Helper()
	fields := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		fields = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var canonical string
	for _, f := range fields {
		if v, ok := m[f]; ok {
			canonical += f + "\n" + v + "\n"
		}
	}
	var (
		sig []byte
		err error
	)
	if version == "1" {
		sum := sha1.Sum([]byte(canonical))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, sum[:])
	} else {
		sum := sha256.Sum256([]byte(canonical))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	out := snsMessage{"SignatureVersion": version, "Signature": base64.StdEncoding.EncodeToString(sig), "SigningCertURL": s.certURL}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (m snsMessage) json(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// notification wraps an SES notification in an SNS one.
func (b *testBundle) notification(t *testing.T, name, id string) snsMessage {
	return snsMessage{
		"Type": "Notification", "MessageId": id, "TopicArn": topicARN,
		"Message": string(b.testdata(t, name)), "Timestamp": b.Now.Add(-time.Minute).Format("2006-01-02T15:04:05.000Z"),
		"UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topicARN + ":c9135db0",
	}
}

func TestSES(t *testing.T) {
	t.Parallel()
	hard := want(bounce.Hard, "ses", "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000", "5.1.1", "smtp; 550 5.1.1 user unknown", true)

	for _, version := range []string{"1", "2"} {
		t.Run("SignatureVersion"+version, func(t *testing.T) {
			b := setup(t, dbtest.SQLite)
			msg := b.SNS.sign(t, b.notification(t, "ses_bounce.json", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"), version)
			status, got := b.post(t, "/webhooks/ses", msg.json(t), nil)
			mustStatus(t, http.StatusOK, status, got)
			checkEvents(t, b.Sink, hard)
		})
	}
	t.Run("EveryKindAndTheCertificateFetchedOnce", func(t *testing.T) {
		b := setup(t, dbtest.SQLite)
		for i, name := range []string{"ses_bounce.json", "ses_bounce_transient.json", "ses_complaint.json", "ses_delivery_delay.json", "ses_bounce.json"} {
			msg := b.SNS.sign(t, b.notification(t, name, "sns-"+string(rune('a'+i))), "2")
			status, got := b.post(t, "/webhooks/ses", msg.json(t), nil)
			mustStatus(t, http.StatusOK, status, got)
		}
		checkEvents(t, b.Sink, hard,
			want(bounce.Soft, "ses", "0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000", "4.2.2", "smtp; 452 4.2.2 Mailbox full", false),
			want(bounce.Complaint, "ses", "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000", "", "", false),
			want(bounce.Delay, "ses", "sns-d", "4.4.1", "smtp; 421 4.4.1 Unable to connect to the remote host", false),
		)
		if got := b.Fetcher.urls(); len(got) != 1 {
			t.Errorf("fetched %v, want the certificate once", got)
		}
	})

	forge := []struct {
		name   string
		change func(b *testBundle, m snsMessage) snsMessage
	}{
		{"WrongTopic", func(b *testBundle, m snsMessage) snsMessage {
			m["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:someone-elses"
			return b.SNS.sign(t, m, "2")
		}},
		{"CertificateOnAnotherHost", func(b *testBundle, m snsMessage) snsMessage {
			m = b.SNS.sign(t, m, "2")
			m["SigningCertURL"] = "https://sns.eu-west-1.amazonaws.com.evil.test/cert.pem"
			return m
		}},
		{"CertificateOverHTTP", func(b *testBundle, m snsMessage) snsMessage {
			m = b.SNS.sign(t, m, "2")
			m["SigningCertURL"] = "http://sns.eu-west-1.amazonaws.com/cert.pem"
			return m
		}},
		{"CertificateURLWithUserInfo", func(b *testBundle, m snsMessage) snsMessage {
			m = b.SNS.sign(t, m, "2")
			m["SigningCertURL"] = "https://evil.test@sns.eu-west-1.amazonaws.com/cert.pem"
			return m
		}},
		{"CertificateOnAnotherPort", func(b *testBundle, m snsMessage) snsMessage {
			m = b.SNS.sign(t, m, "2")
			m["SigningCertURL"] = "https://sns.eu-west-1.amazonaws.com:8443/cert.pem"
			return m
		}},
		{"SignedByAnotherKey", func(b *testBundle, m snsMessage) snsMessage {
			return newSNSSigner(t).sign(t, m, "2")
		}},
		{"MessageChangedAfterSigning", func(b *testBundle, m snsMessage) snsMessage {
			signed := b.SNS.sign(t, m, "2")
			signed["Message"] = string(b.testdata(t, "ses_complaint.json"))
			return signed
		}},
		{"UnknownSignatureVersion", func(b *testBundle, m snsMessage) snsMessage {
			m = b.SNS.sign(t, m, "2")
			m["SignatureVersion"] = "3"
			return m
		}},
		{"Stale", func(b *testBundle, m snsMessage) snsMessage {
			m["Timestamp"] = b.Now.Add(-73 * time.Hour).Format(time.RFC3339)
			return b.SNS.sign(t, m, "2")
		}},
	}
	for _, tc := range forge {
		t.Run(tc.name+"Is401", func(t *testing.T) {
			b := setup(t, dbtest.SQLite)
			msg := tc.change(b, b.notification(t, "ses_bounce.json", "forged"))
			status, got := b.post(t, "/webhooks/ses", msg.json(t), nil)
			mustStatus(t, http.StatusUnauthorized, status, got)
			checkEvents(t, b.Sink)
			for _, u := range b.Fetcher.urls() {
				if u != b.SNS.certURL {
					t.Errorf("fetched %s", u)
				}
			}
		})
	}

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("SubscriptionIsConfirmedByStaffOnly", func(t *testing.T) {
			b := setup(t, database)
			subscribe := "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=2336412f37fb687f5d51e6e241d09c805"
			b.Fetcher.bodies[subscribe] = []byte(`<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"></ConfirmSubscriptionResponse>`)
			msg := b.SNS.sign(t, snsMessage{
				"Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
				"Token": "2336412f37fb687f5d51e6e241d09c805", "TopicArn": topicARN,
				"Message":      "You have chosen to subscribe to the topic " + topicARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
				"SubscribeURL": subscribe, "Timestamp": b.Now.Format(time.RFC3339),
			}, "1")
			for range 2 { // SNS resends it; it is kept once
				status, got := b.post(t, "/webhooks/ses", msg.json(t), nil)
				mustStatus(t, http.StatusOK, status, got)
			}
			if got := b.Fetcher.urls(); slices.Contains(got, subscribe) {
				t.Fatalf("herald followed the SubscribeURL by itself: %v", got)
			}
			ctx := context.Background()
			subs, err := b.Webhooks.Subscriptions.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(subs) != 1 || subs[0].SubscribeURL != subscribe || subs[0].ConfirmedAt != nil {
				t.Fatalf("subscriptions %+v, want the one, unconfirmed", subs)
			}
			if _, err := b.Webhooks.Subscriptions.Confirm(ctx, subs[0].ID+1, contacts.Actor{Via: contacts.ViaCLI, Name: "ops"}); err == nil {
				t.Error("confirmed a subscription that does not exist")
			}
			sub, err := b.Webhooks.Subscriptions.Confirm(ctx, subs[0].ID, contacts.Actor{Via: contacts.ViaCLI, Name: "ops"})
			if err != nil {
				t.Fatal(err)
			}
			if sub.ConfirmedAt == nil || sub.ConfirmedBy != "cli:ops" || !slices.Contains(b.Fetcher.urls(), subscribe) {
				t.Errorf("Confirm = %+v, fetched %v; want it confirmed through its SubscribeURL", sub, b.Fetcher.urls())
			}
		})
		t.Run("SubscriptionToAnotherHostIsRefused", func(t *testing.T) {
			b := setup(t, database)
			msg := b.SNS.sign(t, snsMessage{
				"Type": "SubscriptionConfirmation", "MessageId": "x1", "Token": "t", "TopicArn": topicARN, "Message": "m",
				"SubscribeURL": "https://evil.test/?Action=ConfirmSubscription", "Timestamp": b.Now.Format(time.RFC3339),
			}, "2")
			status, got := b.post(t, "/webhooks/ses", msg.json(t), nil)
			mustStatus(t, http.StatusBadRequest, status, got)
			if subs, err := b.Webhooks.Subscriptions.List(context.Background()); err != nil || len(subs) != 0 {
				t.Errorf("subscriptions %v, %v; want none", subs, err)
			}
		})
	})
	_ = inbound.SourceSES
}
