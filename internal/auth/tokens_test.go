package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		setup := func(t *testing.T) (*auth.Tokens, *db.DB, *time.Time) {
			d := database.Open(t)
			now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
			return auth.NewTokens(d, func() time.Time { return now }), d, &now
		}

		t.Run("CreateVerifyRevoke", func(t *testing.T) {
			tokens, d, now := setup(t)
			secret, err := tokens.Create(ctx, "ci")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, auth.Prefix) || len(secret) < 40 {
				t.Errorf("secret %q is not a prefixed 256-bit token", secret)
			}
			var stored int
			if err := db.Get(ctx, d, &stored, `SELECT COUNT(*) FROM api_tokens WHERE hash = ? OR name = ?`, secret, secret); err != nil || stored != 0 {
				t.Errorf("the secret is stored in clear (%d rows, %v)", stored, err)
			}
			*now = now.Add(2 * time.Minute)
			tok, err := tokens.Verify(ctx, secret)
			if err != nil || tok.Name != "ci" {
				t.Fatalf("Verify = %+v, %v", tok, err)
			}
			list, err := tokens.List(ctx)
			if err != nil || len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(*now) {
				t.Errorf("List after use = %+v, %v", list, err)
			}
			if _, err := tokens.Create(ctx, "ci"); !errors.Is(err, fault.ErrConflict) {
				t.Errorf("second ci token = %v, want conflict", err)
			}
			if err := tokens.Revoke(ctx, "ci"); err != nil {
				t.Fatal(err)
			}
			if _, err := tokens.Verify(ctx, secret); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Verify after revoke = %v, want not found", err)
			}
			if err := tokens.Revoke(ctx, "ci"); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("second revoke = %v, want not found", err)
			}
		})

		t.Run("PutReplacesTheEnvironmentToken", func(t *testing.T) {
			tokens, _, _ := setup(t)
			first, second := "first-secret-0123456789", "second-secret-0123456789"
			if err := tokens.Put(ctx, auth.EnvTokenName, first); err != nil {
				t.Fatal(err)
			}
			if err := tokens.Put(ctx, auth.EnvTokenName, second); err != nil {
				t.Fatal(err)
			}
			if _, err := tokens.Verify(ctx, first); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("the replaced token still works: %v", err)
			}
			if _, err := tokens.Verify(ctx, second); err != nil {
				t.Errorf("the new token does not work: %v", err)
			}
			if n, err := tokens.Count(ctx); err != nil || n != 1 {
				t.Errorf("Count = %d, %v; want 1", n, err)
			}
		})

		t.Run("BadName", func(t *testing.T) {
			tokens, _, _ := setup(t)
			if _, err := tokens.Create(ctx, "two words"); !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("Create(two words) = %v, want invalid", err)
			}
		})
	})
}
