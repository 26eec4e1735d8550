package mailer

import (
	"fmt"
	"os"

	gomail "github.com/wneessen/go-mail"
)

// SignedHeaders are the headers a DKIM signature covers. RFC 8058 requires
// List-Unsubscribe and List-Unsubscribe-Post among them, so that a relay
// cannot add an unsubscribe link of its own.
var SignedHeaders = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Message-ID",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id",
	"MIME-Version", "Content-Type", "Auto-Submitted", "Precedence",
}

// NewDKIM returns a DKIM signer for domain and selector with the private key
// in keyFile (PEM, PKCS#1 or PKCS#8; RSA or Ed25519).
func NewDKIM(domain, selector, keyFile string) (*gomail.DKIMSigner, error) {
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	key, err := gomail.PrivKeyFromPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	signer := gomail.NewDKIMSigner(domain, selector, key)
	signer.SignHeaders(SignedHeaders...)
	if err := signer.ValidateConfig(); err != nil {
		return nil, err
	}
	return signer, nil
}
