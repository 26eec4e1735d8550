package bounce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/keys"
)

// Refs makes and verifies the references that tie what comes back to the
// delivery that caused it: a return path (the envelope sender,
// bounces+<token>@<bounce domain>) per delivery, and a signed Message-ID
// (<delivery>.<announcement>.<mac>@<sending domain>), stable per delivery.
// Both are lower case, as some servers lower the local part, and both are
// signed with a key of their own, so that nobody can name a delivery
// herald did not send them.
type Refs struct {
	key    []byte
	domain string // the bounce domain, lower case; empty without one
}

// NewRefs returns the references signed with a key derived from secret,
// with return paths at bounceDomain (none when it is empty).
func NewRefs(secret []byte, bounceDomain string) (*Refs, error) {
	key, err := keys.Derive(secret, keys.BounceRef)
	if err != nil {
		return nil, err
	}
	return &Refs{key: key, domain: strings.ToLower(bounceDomain)}, nil
}

// returnPathMAC and messageIDMAC are the lengths, in bytes, of the MACs of
// a return path (80 bits, 16 characters) and of a Message-ID (40 bits, 8
// characters: a Message-ID alone is trusted only behind a provider's own
// signature, or with a report that also reaches the return path).
const (
	returnPathMAC = 10
	messageIDMAC  = 5
)

// localPrefix begins the local part of every return path.
const localPrefix = "bounces+"

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Domain is the bounce domain, empty when herald has none.
func (r *Refs) Domain() string { return r.domain }

// ReturnPath is the envelope sender of delivery's message, or "" without a
// bounce domain.
func (r *Refs) ReturnPath(delivery int64) string {
	if r.domain == "" {
		return ""
	}
	return localPrefix + r.Token(delivery) + "@" + r.domain
}

// Delivery verifies a return path (an address a bounce was sent to) and
// returns the delivery it names.
func (r *Refs) Delivery(address string) (int64, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	local, domain, ok := strings.Cut(address, "@")
	if !ok || r.domain == "" || domain != r.domain {
		return 0, fmt.Errorf("return path %q: not at the bounce domain", shorten(address))
	}
	token, ok := strings.CutPrefix(local, localPrefix)
	if !ok {
		return 0, fmt.Errorf("return path %q: not a herald return path", shorten(address))
	}
	delivery, err := r.FromToken(token)
	if err != nil {
		return 0, fmt.Errorf("return path %q: %w", shorten(address), err)
	}
	return delivery, nil
}

// Token is the signed token of delivery ("<id in base 36>-<80-bit MAC>",
// at most 30 characters, lower case): the local part of its return path
// after "bounces+", and what a sending service that replaces the
// Message-ID echoes back (ProviderHeaders). It needs no bounce domain.
func (r *Refs) Token(delivery int64) string {
	id := strconv.FormatInt(delivery, 36)
	return id + "-" + r.mac("rp:"+id, returnPathMAC)
}

// FromToken verifies a token made by Token and returns its delivery.
func (r *Refs) FromToken(token string) (int64, error) {
	token = strings.ToLower(strings.TrimSpace(token))
	id, mac, ok := strings.Cut(token, "-")
	delivery, err := strconv.ParseInt(id, 36, 64)
	if !ok || err != nil || delivery <= 0 || strconv.FormatInt(delivery, 36) != id {
		return 0, errors.New("no delivery in it")
	}
	if !hmac.Equal([]byte(mac), []byte(r.mac("rp:"+id, returnPathMAC))) {
		return 0, errors.New("the signature does not match")
	}
	return delivery, nil
}

// PostmarkMetadataKey is the key of the custom metadata that carries a
// delivery's token through Postmark, which replaces the Message-ID: its
// SMTP service takes the header X-PM-Metadata-<key> off the message and
// echoes the value in the Metadata of its bounce and complaint webhooks.
// Postmark allows keys of up to 20 characters and values of up to 80.
const PostmarkMetadataKey = "herald-delivery"

// ProviderHeaders are the headers that delivery's message carries so that
// a sending service's events name it even where the service replaces the
// Message-ID (Postmark). A relay that is not that service passes them on
// unchanged: they hold the signed token only, nothing about the person.
// They are in the order of mailer.Message.Headers.
func (r *Refs) ProviderHeaders(delivery int64) [][2]string {
	return [][2]string{{"X-PM-Metadata-" + PostmarkMetadataKey, r.Token(delivery)}}
}

// MessageID is the Message-ID (without angle brackets) of delivery's
// message in announcement, at the sending domain.
func (r *Refs) MessageID(delivery, announcement int64, domain string) string {
	ids := strconv.FormatInt(delivery, 10) + "." + strconv.FormatInt(announcement, 10)
	return ids + "." + r.mac("mid:"+ids, messageIDMAC) + "@" + domain
}

// FromMessageID verifies a Message-ID herald made (with or without angle
// brackets) and returns its delivery and announcement.
func (r *Refs) FromMessageID(id string) (delivery, announcement int64, err error) {
	id = strings.ToLower(strings.Trim(strings.TrimSpace(id), "<>"))
	local, _, ok := strings.Cut(id, "@")
	parts := strings.Split(local, ".")
	if !ok || len(parts) != 3 {
		return 0, 0, fmt.Errorf("message id %q: not one herald made", shorten(id))
	}
	delivery, err1 := strconv.ParseInt(parts[0], 10, 64)
	announcement, err2 := strconv.ParseInt(parts[1], 10, 64)
	ids := parts[0] + "." + parts[1]
	if err1 != nil || err2 != nil || delivery <= 0 || announcement <= 0 ||
		ids != strconv.FormatInt(delivery, 10)+"."+strconv.FormatInt(announcement, 10) {
		return 0, 0, fmt.Errorf("message id %q: no delivery in it", shorten(id))
	}
	if !hmac.Equal([]byte(parts[2]), []byte(r.mac("mid:"+ids, messageIDMAC))) {
		return 0, 0, fmt.Errorf("message id %q: the signature does not match", shorten(id))
	}
	return delivery, announcement, nil
}

func (r *Refs) mac(s string, n int) string {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(s))
	return b32.EncodeToString(m.Sum(nil)[:n])
}

// shorten keeps what an error echoes of its input short.
func shorten(s string) string { return fault.Shorten(s, 100) }
