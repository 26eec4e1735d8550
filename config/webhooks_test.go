package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/heraldhq/herald/config"
)

func TestWebhookSettings(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sendgrid := base64.StdEncoding.EncodeToString(der)

	t.Run("ValidOnesLoad", func(t *testing.T) {
		cfg, err := config.Load("", env(map[string]string{
			"HERALD_POSTMARK_WEBHOOK_AUTH": "postmark:a-long-enough-password",
			"HERALD_SENDGRID_WEBHOOK_KEY":  sendgrid,
			"HERALD_MAILGUN_SIGNING_KEY":   "key-0123456789abcdef0123456789abcdef",
			"HERALD_SES_TOPIC_ARN":         "arn:aws:sns:eu-west-1:123456789012:herald-bounces",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Validate = %v", err)
		}
		key, err := cfg.Webhooks.SendGridPublicKey()
		if err != nil || !key.Equal(&ecKey.PublicKey) {
			t.Errorf("SendGridPublicKey = %v, %v; want the key given", key, err)
		}
	})

	for _, tc := range []struct {
		name, env, value, want string
	}{
		{"PostmarkNotUserPass", "HERALD_POSTMARK_WEBHOOK_AUTH", "justapassword", "HERALD_POSTMARK_WEBHOOK_AUTH: is not user:password"},
		{"PostmarkShortPassword", "HERALD_POSTMARK_WEBHOOK_AUTH", "pm:short", "HERALD_POSTMARK_WEBHOOK_AUTH: the password must be at least 16"},
		{"SendGridNotBase64", "HERALD_SENDGRID_WEBHOOK_KEY", "not base64!", "HERALD_SENDGRID_WEBHOOK_KEY: is not base64"},
		{"SendGridNotAKey", "HERALD_SENDGRID_WEBHOOK_KEY", base64.StdEncoding.EncodeToString([]byte("hello, world")), "HERALD_SENDGRID_WEBHOOK_KEY: is not a public key"},
		{"SendGridRSA", "HERALD_SENDGRID_WEBHOOK_KEY", base64.StdEncoding.EncodeToString(rsaDER), "HERALD_SENDGRID_WEBHOOK_KEY: is not an ECDSA public key"},
		{"MailgunShort", "HERALD_MAILGUN_SIGNING_KEY", "key-1", "HERALD_MAILGUN_SIGNING_KEY: must be at least 16"},
		{"SESNotAnARN", "HERALD_SES_TOPIC_ARN", "herald-bounces", "HERALD_SES_TOPIC_ARN: \"herald-bounces\" is not an SNS topic ARN"},
		{"SESNotSNS", "HERALD_SES_TOPIC_ARN", "arn:aws:sqs:eu-west-1:123456789012:herald", "HERALD_SES_TOPIC_ARN"},
		{"SESShortAccount", "HERALD_SES_TOPIC_ARN", "arn:aws:sns:eu-west-1:1234:herald", "HERALD_SES_TOPIC_ARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load("", env(map[string]string{tc.env: tc.value}))
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate with %s=%q = %v, want an error saying %q", tc.env, tc.value, err, tc.want)
			}
		})
	}
}
