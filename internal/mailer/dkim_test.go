package mailer_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/smtptest"
)

// TestDKIMSignatureVerifies signs with keys in every accepted encoding and
// checks each message that reaches a real SMTP server with go-msgauth's
// verifier against the public key, as a receiving server would.
func TestDKIMSignatureVerifies(t *testing.T) {
	t.Parallel()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8RSA, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	pkcs8Ed, _ := x509.MarshalPKCS8PrivateKey(edKey)
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)

	for _, tc := range []struct {
		name   string
		block  *pem.Block
		record string
	}{
		{"RSAPKCS1", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub)},
		{"RSAPKCS8", &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8RSA}, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaPub)},
		{"Ed25519PKCS8", &pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8Ed}, "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edPub)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keyFile := filepath.Join(t.TempDir(), "dkim.pem")
			if err := os.WriteFile(keyFile, pem.EncodeToMemory(tc.block), 0o600); err != nil {
				t.Fatal(err)
			}
			signer, err := mailer.NewDKIM("vendor.test", "herald", keyFile)
			if err != nil {
				t.Fatal(err)
			}
			srv := smtptest.Start(t)
			port, _ := strconv.Atoi(srv.Port())
			sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none", DKIM: signer})
			if err != nil {
				t.Fatal(err)
			}
			defer sender.Close()
			err = sender.Send(context.Background(), mailer.Message{
				From: "Vendor <news@vendor.test>", To: "ann@acme.test", ToName: "Ann", Subject: "Jira 9.4 is available",
				Text: "Hello Ann,\n\nJira 9.4 is out.\n", HTML: "<p>Hello Ann,</p><p>Jira 9.4 is out.</p>",
				MessageID: "1.1@vendor.test", Date: time.Now(),
				Headers: [][2]string{
					{"List-Unsubscribe", "<https://herald.vendor.test/unsubscribe/abc.def>"},
					{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			raw := srv.Messages()[0].Raw
			verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
				LookupTXT: func(domain string) ([]string, error) {
					if domain != "herald._domainkey.vendor.test" {
						t.Errorf("looked up %s", domain)
					}
					return []string{tc.record}, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(verifications) != 1 || verifications[0].Err != nil || verifications[0].Domain != "vendor.test" {
				t.Fatalf("verifications: %+v (err %v)", verifications, verifications[0].Err)
			}
			signed := map[string]bool{}
			for _, h := range verifications[0].HeaderKeys {
				signed[strings.ToLower(h)] = true
			}
			for _, h := range []string{"from", "subject", "list-unsubscribe", "list-unsubscribe-post"} {
				if !signed[h] {
					t.Errorf("the signature does not cover %s (h=%v)", h, verifications[0].HeaderKeys)
				}
			}

			// Changing a signed header breaks the signature.
			tampered := bytes.Replace(raw, []byte("abc.def"), []byte("evil.xyz"), 1)
			v, err := dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{
				LookupTXT: func(string) ([]string, error) { return []string{tc.record}, nil },
			})
			if err != nil || len(v) != 1 || v[0].Err == nil {
				t.Errorf("a changed List-Unsubscribe still verifies: %+v, %v", v, err)
			}
		})
	}

	t.Run("BadKeyFile", func(t *testing.T) {
		keyFile := filepath.Join(t.TempDir(), "dkim.pem")
		if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := mailer.NewDKIM("vendor.test", "herald", keyFile); err == nil {
			t.Error("a file without a PEM key was accepted")
		}
		if _, err := mailer.NewDKIM("vendor.test", "herald", keyFile+".missing"); err == nil {
			t.Error("a missing key file was accepted")
		}
	})
}
