// Package keys derives herald's keys from its one secret (HERALD_SECRET,
// or the one stored at the first start), one key per purpose, with HKDF:
// a key serves one purpose only, so that what is made for one purpose
// cannot pass for another, and a key that leaks reveals neither the
// secret nor the other keys.
package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// Purpose names what a key is for. It is the HKDF info: changing one
// changes its key, and so invalidates what was made with it.
type Purpose string

// The purposes; each is listed here, once, so that no two share a key.
const (
	// UnsubscribeSeal encrypts the payload of unsubscribe links.
	UnsubscribeSeal Purpose = "herald unsubscribe link seal v2"
	// UnsubscribeNonce derives the nonce of an unsubscribe link from its
	// payload.
	UnsubscribeNonce Purpose = "herald unsubscribe link nonce v2"
	// FormToken makes the tokens that the forms of herald's pages carry
	// against cross-site requests.
	FormToken Purpose = "herald form token v1"
	// Erasure hashes the address of a person erased at their request, in
	// what herald keeps of them (contacts.ErasedAddress).
	Erasure Purpose = "herald erased address v1"
	// BounceRef signs the references in each message (its return path
	// and Message-ID) that tie a bounce or a complaint to its delivery.
	BounceRef Purpose = "herald bounce reference v1"
)

// Purposes are every purpose, for tests.
var Purposes = []Purpose{UnsubscribeSeal, UnsubscribeNonce, FormToken, Erasure, BounceRef}

// Size is the length of every key: 256 bits.
const Size = 32

// Derive returns the key of purpose under secret.
func Derive(secret []byte, purpose Purpose) ([]byte, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, string(purpose), Size)
	if err != nil {
		return nil, fmt.Errorf("derive the key of %q: %w", purpose, err)
	}
	return key, nil
}
