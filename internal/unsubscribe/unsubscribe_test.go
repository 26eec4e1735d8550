package unsubscribe_test

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

const secret = "a secret of at least thirty-two characters"

// v1Token is a token of the first format, made by herald before tokens
// were sealed, for ann@acme.test under secret: links already sent carry
// such tokens.
const v1Token = "YW5ub3VuY2VtZW50czphbm5AYWNtZS50ZXN0.EsO3AKRzFcQyfwxH3kigXeAZe24W1E7lIEj-xbrQj1U"

func newTokens(t *testing.T, secret string) *unsubscribe.Tokens {
	t.Helper()
	tokens, err := unsubscribe.New([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

func TestTokens(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, secret)
	token := tokens.Make("ann@acme.test", unsubscribe.CategoryAnnouncements)

	t.Run("RoundTrip", func(t *testing.T) {
		email, category, err := tokens.Check(token)
		if err != nil || email != "ann@acme.test" || category != unsubscribe.CategoryAnnouncements {
			t.Fatalf("Check = %q, %q, %v", email, category, err)
		}
		if again := tokens.Make("ann@acme.test", unsubscribe.CategoryAnnouncements); again != token {
			t.Errorf("one contact gets two links: %s and %s", token, again)
		}
	})

	t.Run("AddressCannotBeRead", func(t *testing.T) {
		// base64url has no '@', so the text of the token has none; every
		// decoding of it holds neither part of the address nor the
		// category.
		if strings.ContainsAny(token, "@.") {
			t.Errorf("token %s", token)
		}
		decoders := map[string]func(string) ([]byte, error){
			"base64url": base64.RawURLEncoding.DecodeString,
			"base64":    base64.RawStdEncoding.DecodeString,
			"base32":    base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString,
			"hex":       hex.DecodeString,
		}
		for _, text := range []string{token, strings.ToUpper(token)} {
			for name, decode := range decoders {
				b, err := decode(text)
				if err != nil {
					continue
				}
				for _, part := range []string{"ann", "acme", "test", "announcements"} {
					if bytes.Contains(bytes.ToLower(b), []byte(part)) {
						t.Errorf("the %s decoding of the token holds %q", name, part)
					}
				}
			}
		}
	})

	t.Run("FirstFormatIsStillAccepted", func(t *testing.T) {
		email, category, err := tokens.Check(v1Token)
		if err != nil || email != "ann@acme.test" || category != unsubscribe.CategoryAnnouncements {
			t.Fatalf("Check(v1) = %q, %q, %v", email, category, err)
		}
	})

	t.Run("ForgedTokensAreRefused", func(t *testing.T) {
		bob := tokens.Make("bob@acme.test", unsubscribe.CategoryAnnouncements)
		raw, _ := base64.RawURLEncoding.DecodeString(token)
		for name, forged := range map[string]string{
			"OtherSecret":     newTokens(t, "another secret of at least thirty-two chars").Make("ann@acme.test", unsubscribe.CategoryAnnouncements),
			"OneBitFlipped":   flip(raw, len(raw)-20),
			"NonceFlipped":    flip(raw, 3),
			"TagFlipped":      flip(raw, len(raw)-1),
			"OtherVersion":    flip(raw, 0),
			"BobsNonce":       bob[:17] + token[17:],
			"Truncated":       token[:len(token)-1],
			"HeaderOnly":      token[:17],
			"Empty":           "",
			"NotBase64":       "%00%ff",
			"V1PayloadChange": "YW5ub3VuY2VtZW50czpib2JAYWNtZS50ZXN0" + v1Token[strings.Index(v1Token, "."):],
			"V1NoMAC":         v1Token[:strings.Index(v1Token, ".")+1],
		} {
			if _, _, err := tokens.Check(forged); !errors.Is(err, unsubscribe.ErrInvalid) {
				t.Errorf("%s: Check = %v, want ErrInvalid", name, err)
			}
		}
		other := newTokens(t, "another secret of at least thirty-two chars")
		if _, _, err := other.Check(v1Token); !errors.Is(err, unsubscribe.ErrInvalid) {
			t.Errorf("a first-format token under another secret: Check = %v, want ErrInvalid", err)
		}
	})
}

// flip returns raw, with one bit of byte i flipped, as a token.
func flip(raw []byte, i int) string {
	b := bytes.Clone(raw)
	b[i] ^= 1
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestSecretIsMadeOnceAndKept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		d := database.Open(t)
		first, err := unsubscribe.Secret(ctx, d, "")
		if err != nil || len(first) < 32 {
			t.Fatalf("Secret = %d bytes, %v", len(first), err)
		}
		again, err := unsubscribe.Secret(ctx, d, "")
		if err != nil || string(again) != string(first) {
			t.Errorf("a second call made another secret")
		}
		if configured, _ := unsubscribe.Secret(ctx, d, "from the configuration, long enough"); string(configured) != "from the configuration, long enough" {
			t.Errorf("the configured secret is not used")
		}
	})
}
