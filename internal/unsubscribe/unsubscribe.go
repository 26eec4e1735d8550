// Package unsubscribe makes and checks the tokens of one-click unsubscribe
// links (RFC 8058). A token names a contact and a mail category, sealed
// (AES-GCM) under a key derived from herald's secret: it cannot be read,
// forged, nor moved to another contact or category. Tokens of the first
// format, readable and signed, are still accepted, for links already sent.
package unsubscribe

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/keys"
)

// The categories of mail a contact can leave, each on its own: release
// notices and broadcasts. Invoice reminders and contact-change notices are
// transactional and have no link. CategoryAnnouncements is both, as links
// sent before they were told apart still say.
const (
	CategoryReleases      = "releases"
	CategoryBroadcasts    = "broadcasts"
	CategoryAnnouncements = "announcements"
)

// ErrInvalid is returned for a token that was not made with this secret.
var ErrInvalid = errors.New("invalid unsubscribe token")

// Tokens makes and checks tokens with one secret.
type Tokens struct {
	seal     cipher.AEAD
	nonceKey []byte
	// v1Key checks tokens of the first format: the secret itself.
	v1Key []byte
}

// New returns tokens keyed by secret.
func New(secret []byte) (*Tokens, error) {
	sealKey, err := keys.Derive(secret, keys.UnsubscribeSeal)
	if err != nil {
		return nil, err
	}
	nonceKey, err := keys.Derive(secret, keys.UnsubscribeNonce)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	seal, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Tokens{seal: seal, nonceKey: nonceKey, v1Key: secret}, nil
}

var enc = base64.RawURLEncoding

// version2 is the first byte of a sealed token, and its additional data.
const version2 = 2

// Make returns the token of email for category: version2, a nonce, and
// the payload sealed.
//
// The nonce is a MAC of the payload (a synthetic IV): one contact gets one
// link in every message, a message rendered again is the same, and a nonce
// repeats only with its payload, so that the tokens tell no more than
// whether two links are one.
func (t *Tokens) Make(email, category string) string {
	payload := []byte(category + ":" + email)
	h := hmac.New(sha256.New, t.nonceKey)
	h.Write(payload)
	nonce := h.Sum(nil)[:t.seal.NonceSize()]
	out := append([]byte{version2}, nonce...)
	out = t.seal.Seal(out, nonce, payload, []byte{version2})
	return enc.EncodeToString(out)
}

// Check returns the contact and category of a token, or ErrInvalid.
func (t *Tokens) Check(token string) (email, category string, err error) {
	var payload []byte
	if strings.Contains(token, ".") {
		payload, err = t.checkV1(token)
	} else {
		payload, err = t.open(token)
	}
	if err != nil {
		return "", "", ErrInvalid
	}
	category, email, ok := strings.Cut(string(payload), ":")
	if !ok {
		return "", "", ErrInvalid
	}
	return email, category, nil
}

func (t *Tokens) open(token string) ([]byte, error) {
	raw, err := enc.DecodeString(token)
	n := t.seal.NonceSize()
	if err != nil || len(raw) < 1+n+t.seal.Overhead() || raw[0] != version2 {
		return nil, ErrInvalid
	}
	return t.seal.Open(nil, raw[1:1+n], raw[1+n:], []byte{version2})
}

// checkV1 checks a token of the first format: the payload in base64, a dot,
// and an HMAC of the payload under the secret itself.
func (t *Tokens) checkV1(token string) ([]byte, error) {
	p, sig, _ := strings.Cut(token, ".")
	payload, err := enc.DecodeString(p)
	if err != nil {
		return nil, ErrInvalid
	}
	mac, err := enc.DecodeString(sig)
	if err != nil {
		return nil, ErrInvalid
	}
	h := hmac.New(sha256.New, t.v1Key)
	h.Write([]byte("herald unsubscribe v1\x00"))
	h.Write(payload)
	if !hmac.Equal(mac, h.Sum(nil)) {
		return nil, ErrInvalid
	}
	return payload, nil
}

// settingName is where a generated secret is kept.
const settingName = "unsubscribe_secret"

// Secret returns configured when it is set; otherwise the secret stored in
// the database, made and stored on first use. Every process of one
// installation thus signs with the same key, and links stay valid across
// restarts.
func Secret(ctx context.Context, d *db.DB, configured string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	made := rand.Text() + rand.Text()
	if _, err := db.Exec(ctx, d, `INSERT INTO settings (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		settingName, made, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("store the unsubscribe secret: %w", err)
	}
	var secret string
	if err := db.Get(ctx, d, &secret, `SELECT value FROM settings WHERE name = ?`, settingName); err != nil {
		return nil, fmt.Errorf("read the unsubscribe secret: %w", err)
	}
	return []byte(secret), nil
}
