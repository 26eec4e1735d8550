// Package unsubscribe makes and checks the tokens of one-click unsubscribe
// links (RFC 8058). A token names a contact and a mail category and carries
// an HMAC of both under herald's secret: it cannot be forged, nor moved to
// another contact or category.
package unsubscribe

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/db"
)

// CategoryAnnouncements is the mail a contact can leave: release notices
// and broadcasts. Invoice reminders are transactional and have no link.
const CategoryAnnouncements = "announcements"

// ErrInvalid is returned for a token that was not made with this secret.
var ErrInvalid = errors.New("invalid unsubscribe token")

// Tokens makes and checks tokens with one secret.
type Tokens struct {
	secret []byte
}

// New returns tokens keyed by secret.
func New(secret []byte) *Tokens { return &Tokens{secret: secret} }

var enc = base64.RawURLEncoding

// Make returns the token of email for category.
func (t *Tokens) Make(email, category string) string {
	payload := category + ":" + email
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(t.mac(payload))
}

// Check returns the contact and category of a token, or ErrInvalid.
func (t *Tokens) Check(token string) (email, category string, err error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", "", ErrInvalid
	}
	payload, err := enc.DecodeString(p)
	if err != nil {
		return "", "", ErrInvalid
	}
	mac, err := enc.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, t.mac(string(payload))) {
		return "", "", ErrInvalid
	}
	category, email, ok = strings.Cut(string(payload), ":")
	if !ok {
		return "", "", ErrInvalid
	}
	return email, category, nil
}

func (t *Tokens) mac(payload string) []byte {
	h := hmac.New(sha256.New, t.secret)
	h.Write([]byte("herald unsubscribe v1\x00" + payload))
	return h.Sum(nil)
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
