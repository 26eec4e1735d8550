// Package auth keeps the admin API's bearer tokens. A token is shown once,
// when it is made; the database keeps only its SHA-256, which is enough for
// a secret of 256 random bits (no password stretching needed).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// Prefix marks herald tokens, so that secret scanners can recognise them.
const Prefix = "hrld_"

// EnvTokenName is the name under which HERALD_ADMIN_TOKEN is stored.
const EnvTokenName = "HERALD_ADMIN_TOKEN"

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Token is a stored token, without its secret.
type Token struct {
	ID         int64      `db:"id"`
	Name       string     `db:"name"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
}

// Tokens stores and checks API tokens.
type Tokens struct {
	db  *db.DB
	now func() time.Time
}

// NewTokens returns the token store on d.
func NewTokens(d *db.DB, now func() time.Time) *Tokens { return &Tokens{db: d, now: now} }

// Create makes a token called name and returns its secret, which is not
// stored and cannot be shown again.
func (t *Tokens) Create(ctx context.Context, name string) (string, error) {
	if !namePattern.MatchString(name) {
		return "", fault.Invalid("name", "%q is not a token name (letters, digits, '.', '_', '@' and '-', up to 64 characters)", name)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
	_, err := db.Exec(ctx, t.db, `INSERT INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?)`,
		name, hash(secret), t.now().UTC().Truncate(time.Microsecond))
	if db.IsUniqueViolation(err) {
		return "", fault.Conflict("a token named %s exists already; revoke it first or choose another name", name)
	}
	if err != nil {
		return "", fmt.Errorf("create token %s: %w", name, err)
	}
	return secret, nil
}

// Put stores secret under name, replacing the token of that name: how the
// token from HERALD_ADMIN_TOKEN is kept in step with the environment.
func (t *Tokens) Put(ctx context.Context, name, secret string) error {
	_, err := db.Exec(ctx, t.db, `
		INSERT INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET hash = excluded.hash`,
		name, hash(secret), t.now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return fmt.Errorf("store token %s: %w", name, err)
	}
	return nil
}

// List returns every token, oldest first.
func (t *Tokens) List(ctx context.Context) ([]Token, error) {
	var tokens []Token
	if err := db.Select(ctx, t.db.Read, &tokens, `SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return tokens, nil
}

// Revoke deletes the token called name.
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	res, err := db.Exec(ctx, t.db, `DELETE FROM api_tokens WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.NotFound("there is no token named %s", name)
	}
	return nil
}

// Count returns how many tokens are stored.
func (t *Tokens) Count(ctx context.Context) (int, error) {
	var n int
	if err := db.Get(ctx, t.db.Read, &n, `SELECT COUNT(*) FROM api_tokens`); err != nil {
		return 0, fmt.Errorf("count tokens: %w", err)
	}
	return n, nil
}

// lastUsedResolution bounds how often a token's last use is written: at most
// once a minute, so that checking a token is a read, not a write.
const lastUsedResolution = time.Minute

// Verify returns the token whose secret is given, or fault.ErrNotFound.
func (t *Tokens) Verify(ctx context.Context, secret string) (Token, error) {
	var tok Token
	err := db.Get(ctx, t.db.Read, &tok, `SELECT id, name, created_at, last_used_at FROM api_tokens WHERE hash = ?`, hash(secret))
	if db.IsNoRows(err) {
		return Token{}, fault.NotFound("unknown token")
	}
	if err != nil {
		return Token{}, fmt.Errorf("verify token: %w", err)
	}
	now := t.now().UTC().Truncate(time.Microsecond)
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= lastUsedResolution {
		// Best effort: a failed bookkeeping write must not refuse the request.
		_, _ = db.Exec(ctx, t.db, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, tok.ID)
	}
	return tok, nil
}

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}
