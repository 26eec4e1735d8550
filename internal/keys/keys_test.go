package keys_test

import (
	"bytes"
	"testing"

	"github.com/heraldhq/herald/internal/keys"
)

func TestDerive(t *testing.T) {
	t.Parallel()
	secret := []byte("a secret of at least thirty-two characters")
	seen := map[string]keys.Purpose{}
	for _, p := range keys.Purposes {
		key, err := keys.Derive(secret, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(key) != keys.Size || bytes.Contains(key, secret[:8]) {
			t.Errorf("%s: key of %d bytes, %x", p, len(key), key)
		}
		if other, ok := seen[string(key)]; ok {
			t.Errorf("%s and %s share a key", p, other)
		}
		seen[string(key)] = p
		again, _ := keys.Derive(secret, p)
		if !bytes.Equal(again, key) {
			t.Errorf("%s: the key changes from one call to the next", p)
		}
		other, _ := keys.Derive([]byte("another secret of at least thirty-two chars"), p)
		if bytes.Equal(other, key) {
			t.Errorf("%s: two secrets give one key", p)
		}
	}
}
