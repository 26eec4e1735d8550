package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
)

// adminToken stands for HERALD_ADMIN_TOKEN.
const adminToken = "hrld_admin-token-from-the-environment"

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		setup := func(t *testing.T) (*auth.Tokens, *db.DB, *time.Time) {
			d := database.Open(t)
			now := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
			return auth.NewTokens(d, func() time.Time { return now }, adminToken), d, &now
		}
		lastUsed := func(t *testing.T, tokens *auth.Tokens) *time.Time {
			t.Helper()
			list, err := tokens.List(ctx)
			if err != nil || len(list) != 1 {
				t.Fatalf("List = %+v, %v; want one token", list, err)
			}
			return list[0].LastUsedAt
		}

		t.Run("CreateVerifyRevoke", func(t *testing.T) {
			tokens, d, now := setup(t)
			secret, err := tokens.Create(ctx, "ci", cli)
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
			if err := tokens.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if at := lastUsed(t, tokens); at == nil || !at.Equal(*now) {
				t.Errorf("last use after a flush = %v, want %v", at, *now)
			}
			if _, err := tokens.Create(ctx, "ci", cli); !errors.Is(err, fault.ErrConflict) {
				t.Errorf("second ci token = %v, want conflict", err)
			}
			if err := tokens.Revoke(ctx, "ci", cli); err != nil {
				t.Fatal(err)
			}
			if _, err := tokens.Verify(ctx, secret); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("Verify after revoke = %v, want not found", err)
			}
			if err := tokens.Revoke(ctx, "ci", cli); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("second revoke = %v, want not found", err)
			}
		})

		t.Run("AuditsWhoMadeAndRevoked", func(t *testing.T) {
			tokens, d, _ := setup(t)
			if _, err := tokens.Create(ctx, "ci", cli); err != nil {
				t.Fatal(err)
			}
			// Refused changes are not audited: they changed nothing.
			if _, err := tokens.Create(ctx, "ci", cli); !errors.Is(err, fault.ErrConflict) {
				t.Fatalf("second ci token = %v, want conflict", err)
			}
			if err := tokens.Revoke(ctx, "gone", cli); !errors.Is(err, fault.ErrNotFound) {
				t.Fatalf("revoke of no token = %v, want not found", err)
			}
			if err := tokens.Revoke(ctx, "ci", contacts.Actor{Via: contacts.ViaAPI, Name: "ops-token"}); err != nil {
				t.Fatal(err)
			}
			// A change without who makes it is refused whole.
			if _, err := tokens.Create(ctx, "nobody", contacts.Actor{}); err == nil {
				t.Error("a token made by nobody was taken")
			}
			var got []string
			if err := db.Select(ctx, d, &got, `SELECT action || ' ' || token_name || ' by ' || via || ':' || actor FROM audit_log ORDER BY id`); err != nil {
				t.Fatal(err)
			}
			want := []string{"token_created ci by cli:ops", "token_revoked ci by api:ops-token"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("audit log (-want +got):\n%s", diff)
			}
			if list, err := tokens.List(ctx); err != nil || len(list) != 0 {
				t.Errorf("tokens left: %+v, %v", list, err)
			}
		})

		t.Run("ListNamesTheMaker", func(t *testing.T) {
			tokens, _, _ := setup(t)
			staff := contacts.Actor{Via: contacts.ViaConsole, Name: "ada@herald.test"}
			// A name revoked and used again names the maker of the token
			// that holds it now.
			for _, by := range []contacts.Actor{cli, staff} {
				if _, err := tokens.Create(ctx, "ci", by); err != nil {
					t.Fatal(err)
				}
				if by == cli {
					if err := tokens.Revoke(ctx, "ci", cli); err != nil {
						t.Fatal(err)
					}
				}
			}
			if _, err := tokens.Create(ctx, "deploy", cli); err != nil {
				t.Fatal(err)
			}
			list, err := tokens.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]contacts.Actor{}
			for _, tok := range list {
				got[tok.Name] = tok.CreatedBy
			}
			if diff := cmp.Diff(map[string]contacts.Actor{"ci": staff, "deploy": cli}, got); diff != "" {
				t.Errorf("makers (-want +got):\n%s", diff)
			}
		})

		t.Run("VerifyOnlyReads", func(t *testing.T) {
			tokens, d, now := setup(t)
			secret, err := tokens.Create(ctx, "ci", cli)
			if err != nil {
				t.Fatal(err)
			}
			// Hold the writer, and the token's row, as a long import
			// holds the writer: checking the token must not wait for it.
			inTx, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				done <- d.InTx(ctx, func(tx *sqlx.Tx) error {
					if _, err := db.Exec(ctx, tx, `UPDATE api_tokens SET name = name WHERE name = 'ci'`); err != nil {
						return err
					}
					close(inTx)
					<-release
					return nil
				})
			}()
			select {
			case <-inTx:
			case err := <-done:
				t.Fatalf("the write transaction ended early: %v", err)
			}
			verifyCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			tok, err := tokens.Verify(verifyCtx, secret)
			waited := verifyCtx.Err()
			cancel()
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err != nil || tok.Name != "ci" || waited != nil {
				t.Fatalf("Verify while the writer is held = %+v, %v (deadline: %v)", tok, err, waited)
			}
			if at := lastUsed(t, tokens); at != nil {
				t.Errorf("Verify wrote the last use (%v); it is for Flush to write", at)
			}

			t.Run("CloseFlushes", func(t *testing.T) {
				tokens.Start(time.Hour, slog.New(slog.DiscardHandler))
				if err := tokens.Close(ctx); err != nil {
					t.Fatal(err)
				}
				if at := lastUsed(t, tokens); at == nil || !at.Equal(*now) {
					t.Errorf("last use after Close = %v, want %v", at, *now)
				}
			})

			t.Run("NeverMovesBack", func(t *testing.T) {
				// Another process wrote a later use; this one flushes an
				// earlier one.
				other := auth.NewTokens(d, func() time.Time { return now.Add(time.Hour) }, "")
				if _, err := other.Verify(ctx, secret); err != nil {
					t.Fatal(err)
				}
				if err := other.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				*now = now.Add(30 * time.Minute)
				if _, err := tokens.Verify(ctx, secret); err != nil {
					t.Fatal(err)
				}
				if err := tokens.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				if at, want := lastUsed(t, tokens), now.Add(30*time.Minute); at == nil || !at.Equal(want) {
					t.Errorf("last use = %v, want the other process's %v", at, want)
				}
			})
		})

		t.Run("AdminTokenIsCheckedInMemory", func(t *testing.T) {
			tokens, d, _ := setup(t)
			tok, err := tokens.Verify(ctx, adminToken)
			if err != nil || tok.Name != auth.EnvTokenName {
				t.Fatalf("Verify(HERALD_ADMIN_TOKEN) = %+v, %v", tok, err)
			}
			if n, err := tokens.Count(ctx); err != nil || n != 0 {
				t.Errorf("%d tokens stored (%v); the admin token must not be", n, err)
			}
			for _, wrong := range []string{adminToken[:len(adminToken)-1], adminToken + "x", ""} {
				if _, err := tokens.Verify(ctx, wrong); !errors.Is(err, fault.ErrNotFound) {
					t.Errorf("Verify(%q) = %v, want not found", wrong, err)
				}
			}
			without := auth.NewTokens(d, time.Now, "")
			if _, err := without.Verify(ctx, adminToken); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("without the variable, Verify(the old admin token) = %v, want not found", err)
			}
			if _, err := without.Verify(ctx, ""); !errors.Is(err, fault.ErrNotFound) {
				t.Errorf("without the variable, Verify(\"\") = %v, want not found", err)
			}
			if _, err := tokens.Create(ctx, auth.EnvTokenName, cli); !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("Create(%s) = %v, want invalid: the name is the variable's", auth.EnvTokenName, err)
			}
		})

		t.Run("BadName", func(t *testing.T) {
			tokens, _, _ := setup(t)
			if _, err := tokens.Create(ctx, "two words", cli); !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("Create(two words) = %v, want invalid", err)
			}
		})
	})
}

// cli is who makes and revokes tokens in these tests.
var cli = contacts.Actor{Via: contacts.ViaCLI, Name: "ops"}
