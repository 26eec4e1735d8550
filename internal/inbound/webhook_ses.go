package inbound

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/bounce"
)

// sesTopic is the SNS topic the SES webhook takes.
type sesTopic struct {
	arn   string
	certs *certCache
}

// snsMessage is an SNS HTTP(S) delivery: a notification, or a
// subscription's (un)confirmation.
type snsMessage struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token"`
	TopicArn         string  `json:"TopicArn"`
	Subject          *string `json:"Subject"`
	Message          string  `json:"Message"`
	SubscribeURL     string  `json:"SubscribeURL"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
}

// canonical is the string SNS signs: the fields of the message's type,
// in this order, each as its name, a newline, its value, a newline; a
// notification's Subject only when it has one.
func (m *snsMessage) canonical() string {
	var b strings.Builder
	add := func(name, value string) { b.WriteString(name + "\n" + value + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == "Notification" {
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != "Notification" {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// verify checks the message's topic, then its signature with the
// certificate at its SigningCertURL: SignatureVersion 1 is SHA1withRSA,
// 2 is SHA256withRSA.
func (t *sesTopic) verify(ctx context.Context, m *snsMessage) error {
	if m.TopicArn != t.arn {
		return unauthorized("TopicArn is not HERALD_SES_TOPIC_ARN")
	}
	var (
		hash   crypto.Hash
		digest []byte
	)
	switch m.SignatureVersion {
	case "1":
		sum := sha1.Sum([]byte(m.canonical()))
		hash, digest = crypto.SHA1, sum[:]
	case "2":
		sum := sha256.Sum256([]byte(m.canonical()))
		hash, digest = crypto.SHA256, sum[:]
	default:
		return unauthorized("SignatureVersion is not 1 or 2")
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return unauthorized("Signature is not base64")
	}
	if _, err := snsURL("SigningCertURL", m.SigningCertURL); err != nil {
		return unauthorized("%v", err)
	}
	key, err := t.certs.key(ctx, m.SigningCertURL)
	if err != nil {
		// No certificate, no signature: refused, and SNS retries.
		return unauthorized("%v", err)
	}
	if err := rsa.VerifyPKCS1v15(key, hash, digest, sig); err != nil {
		return unauthorized("the signature does not match the SNS signing certificate")
	}
	return nil
}

// sesNotification is what SES publishes to SNS: a notification
// (notificationType) or an event of a configuration set (eventType).
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           *struct {
		BounceType        string         `json:"bounceType"`
		BouncedRecipients []sesRecipient `json:"bouncedRecipients"`
		Timestamp         string         `json:"timestamp"`
		FeedbackID        string         `json:"feedbackId"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []sesRecipient `json:"complainedRecipients"`
		Timestamp            string         `json:"timestamp"`
		FeedbackID           string         `json:"feedbackId"`
	} `json:"complaint"`
	DeliveryDelay *struct {
		DelayedRecipients []sesRecipient `json:"delayedRecipients"`
		Timestamp         string         `json:"timestamp"`
	} `json:"deliveryDelay"`
	Mail struct {
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

type sesRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

// sesEvents reads an SNS delivery for HERALD_SES_TOPIC_ARN. A
// subscription confirmation is kept for staff to confirm; a notification
// carries SES's bounce, complaint or delivery delay.
func (w *Webhooks) sesEvents(ctx context.Context, _ *http.Request, body []byte) ([]report, error) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, unauthorized("the body is not a signed SNS message: %s", jsonProblem(err))
	}
	if err := w.ses.verify(ctx, &m); err != nil {
		return nil, err
	}
	if at, err := time.Parse(time.RFC3339Nano, m.Timestamp); err != nil {
		return nil, unauthorized("Timestamp is not an RFC 3339 time")
	} else if err := w.fresh(at, signedMaxAge); err != nil {
		return nil, err
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		if err := w.Subscriptions.add(ctx, m); err != nil {
			return nil, err
		}
		w.logger.Warn("SNS asks to confirm the SES webhook's subscription: confirm it with herald webhooks ses-confirm, or the API", "topic", m.TopicArn)
		return nil, nil
	case "Notification":
	default:
		w.ignored(SourceSES) // UnsubscribeConfirmation
		return nil, nil
	}
	var n sesNotification
	if err := json.Unmarshal([]byte(m.Message), &n); err != nil {
		return nil, malformed("Message is not an SES notification: %s", jsonProblem(err))
	}
	messageID := n.Mail.CommonHeaders.MessageID
	for _, h := range n.Mail.Headers {
		if messageID == "" && strings.EqualFold(h.Name, "Message-ID") {
			messageID = h.Value
		}
	}
	var (
		kind       bounce.Kind
		recipients []sesRecipient
		at, id     string
	)
	switch t := firstOf(n.NotificationType, n.EventType); {
	case t == "Bounce" && n.Bounce != nil:
		// Permanent is for good; Transient and Undetermined may pass.
		kind = bounce.Soft
		if n.Bounce.BounceType == "Permanent" {
			kind = bounce.Hard
		}
		recipients, at, id = n.Bounce.BouncedRecipients, n.Bounce.Timestamp, n.Bounce.FeedbackID
	case t == "Complaint" && n.Complaint != nil:
		kind, recipients, at, id = bounce.Complaint, n.Complaint.ComplainedRecipients, n.Complaint.Timestamp, n.Complaint.FeedbackID
	case t == "DeliveryDelay" && n.DeliveryDelay != nil:
		kind, recipients, at = bounce.Delay, n.DeliveryDelay.DelayedRecipients, n.DeliveryDelay.Timestamp
	case t == "Bounce", t == "Complaint", t == "DeliveryDelay":
		return nil, malformed("Message is a %s without its %s object", t, strings.ToLower(t[:1])+t[1:])
	default:
		w.ignored(SourceSES) // Delivery, Send, Open, Click…
		return nil, nil
	}
	// SES's feedback id names the bounce or complaint; a delay has none,
	// and SNS's message id names the notification, which SNS keeps
	// through its retries.
	if id = cleanID(firstOf(id, m.MessageID)); id == "" {
		return nil, malformed("the notification has no feedbackId or MessageId")
	}
	reports := make([]report, 0, len(recipients))
	for _, rc := range recipients {
		e := bounce.Event{Kind: kind, Recipient: recipient(rc.EmailAddress), EventID: id, At: parseTime(at)}
		if len(recipients) > 1 {
			e.EventID = id + ":" + e.Recipient
		}
		if kind != bounce.Complaint {
			failure(&e, rc.Status, rc.DiagnosticCode)
		}
		reports = append(reports, report{event: e, messageID: messageID})
	}
	return reports, nil
}
