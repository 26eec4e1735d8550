package mailer

import (
	"fmt"
	"os"

	gomail "github.com/wneessen/go-mail"
)

// SignedHeaders are the headers a DKIM signature covers. RFC 8058 requires
// List-Unsubscribe and List-Unsubscribe-Post among them, so that a relay
// cannot add an unsubscribe link of its own.
//
// The list is kept to what matters because go-mail v0.8.1 folds an h= tag
// longer than about 76 characters in a way that no longer verifies (the
// DKIM test catches it): adding Reply-To or List-Id here breaks every
// signature.
var SignedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID",
	"List-Unsubscribe", "List-Unsubscribe-Post",
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
	// go-mail's signer settles its algorithm on its first signature; make
	// that signature here, before the signer is shared by every connection,
	// so that concurrent sends only read it.
	if _, err := signer.Sign([]byte("From: herald@"+domain+"\r\n"), []byte("\r\n")); err != nil {
		return nil, fmt.Errorf("test signature: %w", err)
	}
	return signer, nil
}
