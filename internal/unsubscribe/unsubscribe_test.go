package unsubscribe_test

import (
	"context"
	"errors"
	"testing"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	tokens := unsubscribe.New([]byte("a secret of at least thirty-two characters"))
	token := tokens.Make("ann@acme.test", unsubscribe.CategoryAnnouncements)

	email, category, err := tokens.Check(token)
	if err != nil || email != "ann@acme.test" || category != unsubscribe.CategoryAnnouncements {
		t.Fatalf("Check = %q, %q, %v", email, category, err)
	}
	other := unsubscribe.New([]byte("another secret of at least thirty-two chars"))
	bob := tokens.Make("bob@acme.test", unsubscribe.CategoryAnnouncements)
	for name, forged := range map[string]string{
		"OtherSecret":      other.Make("ann@acme.test", unsubscribe.CategoryAnnouncements),
		"SwappedPayload":   bob[:len(bob)-43] + token[len(token)-43:],
		"Truncated":        token[:len(token)-1],
		"NoSeparator":      "abc",
		"Empty":            "",
		"OtherCategoryMAC": tokens.Make("ann@acme.test", "billing")[:10] + token[10:],
	} {
		if _, _, err := tokens.Check(forged); !errors.Is(err, unsubscribe.ErrInvalid) {
			t.Errorf("%s: Check = %v, want ErrInvalid", name, err)
		}
	}
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
