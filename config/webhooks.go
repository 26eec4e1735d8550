package config

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
)

// Webhooks configures the sending services' bounce and complaint
// webhooks under /webhooks/. Each is served only when its setting is set;
// without it, its path answers 404.
type Webhooks struct {
	// PostmarkAuth is "user:pass", the HTTP basic auth that Postmark's
	// webhook URL carries.
	PostmarkAuth string `yaml:"postmark_webhook_auth"`
	// SendGridKey is the public key of SendGrid's signed event webhook, as
	// its console shows it: base64 of a PKIX (DER) ECDSA key.
	SendGridKey string `yaml:"sendgrid_webhook_key"`
	// MailgunSigningKey is Mailgun's HTTP webhook signing key.
	MailgunSigningKey string `yaml:"mailgun_signing_key"`
	// SESTopicARN is the SNS topic whose notifications (SES bounces,
	// complaints and delivery delays) herald takes; any other is refused.
	SESTopicARN string `yaml:"ses_topic_arn"`
}

// minWebhookSecret is the shortest password or signing key accepted: a
// webhook is on the internet, and a short secret is guessed.
const minWebhookSecret = 16

// snsTopicARN is an SNS topic's ARN: partition, region, 12-digit account,
// topic name (a FIFO topic's ends in .fifo).
var snsTopicARN = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

func (w Webhooks) validate() problems {
	var p problems
	if a := w.PostmarkAuth; a != "" {
		user, pass, ok := strings.Cut(a, ":")
		switch {
		case !ok || user == "":
			p.add("POSTMARK_WEBHOOK_AUTH", "is not user:password")
		case len(pass) < minWebhookSecret:
			p.add("POSTMARK_WEBHOOK_AUTH", "the password must be at least %d characters", minWebhookSecret)
		}
	}
	if w.SendGridKey != "" {
		if _, err := w.SendGridPublicKey(); err != nil {
			p.add("SENDGRID_WEBHOOK_KEY", "%v", err)
		}
	}
	if k := w.MailgunSigningKey; k != "" && len(k) < minWebhookSecret {
		p.add("MAILGUN_SIGNING_KEY", "must be at least %d characters (Mailgun's console shows it under Sending, Webhooks)", minWebhookSecret)
	}
	if a := w.SESTopicARN; a != "" && !snsTopicARN.MatchString(a) {
		p.add("SES_TOPIC_ARN", "%q is not an SNS topic ARN such as arn:aws:sns:eu-west-1:123456789012:herald-bounces", shortenSetting(a))
	}
	return p
}

// SendGridPublicKey parses SendGridKey: base64 (standard, padded or not,
// or PEM without its armour lines) of a PKIX ECDSA public key.
func (w Webhooks) SendGridPublicKey() (*ecdsa.PublicKey, error) {
	raw := strings.TrimSpace(w.SendGridKey)
	raw = strings.TrimPrefix(raw, "-----BEGIN PUBLIC KEY-----")
	raw = strings.TrimSuffix(raw, "-----END PUBLIC KEY-----")
	raw = strings.Join(strings.Fields(raw), "")
	der, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		der, err = base64.RawStdEncoding.DecodeString(raw)
	}
	if err != nil {
		return nil, errors.New("is not base64: paste the verification key from SendGrid's signed event webhook settings")
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("is not a public key (PKIX, DER): paste the verification key from SendGrid's signed event webhook settings")
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("is not an ECDSA public key, which SendGrid's signed event webhook uses")
	}
	return ec, nil
}

// shortenSetting keeps what an error quotes of a setting short.
func shortenSetting(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
