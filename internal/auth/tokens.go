// Package auth keeps the admin API's bearer tokens. A token is shown once,
// when it is made; the database keeps only its SHA-256, which is enough for
// a secret of 256 random bits (no password stretching needed).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// Prefix marks herald tokens, so that secret scanners can recognise them.
const Prefix = "hrld_"

// EnvTokenName is the name the token of HERALD_ADMIN_TOKEN goes by: in the
// records of who changed what, and reserved, so that no stored token takes
// it.
const EnvTokenName = "HERALD_ADMIN_TOKEN"

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Token is a stored token, without its secret.
type Token struct {
	ID         int64      `db:"id"`
	Name       string     `db:"name"`
	CreatedAt  time.Time  `db:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	// CreatedBy is who made it, as the audit log says (List only; empty
	// for a token made before the log named its maker).
	CreatedBy contacts.Actor `db:"-"`
}

// Tokens stores and checks API tokens.
//
// Checking a token is a read: its last use is kept in memory and written
// in the background (Start, Flush, Close), so that no request waits for
// the database's writer, which on SQLite a long import can hold for
// seconds.
type Tokens struct {
	db    *db.DB
	now   func() time.Time
	admin *[sha256.Size]byte // the hash of HERALD_ADMIN_TOKEN, when set

	mu   sync.Mutex
	used map[int64]time.Time // last uses not written yet

	stop chan struct{}
	done chan struct{}
}

// NewTokens returns the token store on d. adminToken, when not empty, is
// the secret of HERALD_ADMIN_TOKEN: accepted as EnvTokenName, compared in
// memory and never stored, so it works exactly while the variable holds it,
// in every process that has it.
func NewTokens(d *db.DB, now func() time.Time, adminToken string) *Tokens {
	t := &Tokens{db: d, now: now, used: map[int64]time.Time{}}
	if adminToken != "" {
		sum := sha256.Sum256([]byte(adminToken))
		t.admin = &sum
	}
	return t
}

// Create makes a token called name and returns its secret, which is not
// stored and cannot be shown again. The audit log records who made it (by),
// in the same transaction.
func (t *Tokens) Create(ctx context.Context, name string, by contacts.Actor) (string, error) {
	if !namePattern.MatchString(name) {
		return "", fault.Invalid("name", "%q is not a token name (letters, digits, '.', '_', '@' and '-', up to 64 characters)", name)
	}
	if name == EnvTokenName {
		return "", fault.Invalid("name", "%s is the name of the token set by that variable; choose another name", name)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
	now := t.now().UTC().Truncate(time.Microsecond)
	err := t.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.Exec(ctx, tx, `INSERT INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?)`, name, hash(secret), now); err != nil {
			return err
		}
		_, err := contacts.WriteAudit(ctx, tx, contacts.AuditEntry{Action: contacts.TokenCreated, TokenName: name, By: by, At: now})
		return err
	})
	if db.IsUniqueViolation(err) {
		return "", fault.Conflict("a token named %s exists already; revoke it first or choose another name", name)
	}
	if err != nil {
		return "", fmt.Errorf("create token %s: %w", name, err)
	}
	return secret, nil
}

// List returns every token, oldest first, with who made it: the latest
// entry of the audit log on making a token of its name (a name revoked
// and used again names the maker of the token that holds it now).
func (t *Tokens) List(ctx context.Context) ([]Token, error) {
	var rows []struct {
		Token
		Via   string `db:"created_via"`
		Actor string `db:"created_actor"`
	}
	const maker = `(SELECT a.%s FROM audit_log a WHERE a.action = 'token_created' AND a.token_name = t.name ORDER BY a.id DESC LIMIT 1)`
	err := db.Select(ctx, t.db.Read, &rows, `SELECT t.id, t.name, t.created_at, t.last_used_at, `+
		`COALESCE(`+fmt.Sprintf(maker, "via")+`, '') AS created_via, COALESCE(`+fmt.Sprintf(maker, "actor")+`, '') AS created_actor
		FROM api_tokens t ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	tokens := make([]Token, len(rows))
	for i, r := range rows {
		tokens[i] = r.Token
		tokens[i].CreatedBy = contacts.Actor{Via: contacts.Via(r.Via), Name: r.Actor}
	}
	return tokens, nil
}

// Revoke deletes the token called name, and records who did (by) in the
// audit log.
func (t *Tokens) Revoke(ctx context.Context, name string, by contacts.Actor) error {
	err := t.db.InTx(ctx, func(tx *sqlx.Tx) error {
		res, err := db.Exec(ctx, tx, `DELETE FROM api_tokens WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.NotFound("there is no token named %s", name)
		}
		_, err = contacts.WriteAudit(ctx, tx, contacts.AuditEntry{
			Action: contacts.TokenRevoked, TokenName: name, By: by, At: t.now().UTC().Truncate(time.Microsecond),
		})
		return err
	})
	if _, ok := fault.As(err); ok {
		return err
	}
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", name, err)
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

// lastUsedResolution is how precisely a token's last use is kept: a use
// within a minute of the stored one is not written again, and what is noted
// is written about once a minute.
const lastUsedResolution = time.Minute

// Verify returns the token whose secret is given, or fault.ErrNotFound. It
// only reads: the use is noted in memory, for Flush to write.
func (t *Tokens) Verify(ctx context.Context, secret string) (Token, error) {
	sum := sha256.Sum256([]byte(secret))
	if t.admin != nil && subtle.ConstantTimeCompare(sum[:], t.admin[:]) == 1 {
		return Token{Name: EnvTokenName}, nil
	}
	var tok Token
	err := db.Get(ctx, t.db.Read, &tok, `SELECT id, name, created_at, last_used_at FROM api_tokens WHERE hash = ?`, hex.EncodeToString(sum[:]))
	if db.IsNoRows(err) {
		return Token{}, fault.NotFound("unknown token")
	}
	if err != nil {
		return Token{}, fmt.Errorf("verify token: %w", err)
	}
	now := t.now().UTC().Truncate(time.Microsecond)
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) >= lastUsedResolution {
		t.mu.Lock()
		t.used[tok.ID] = now
		t.mu.Unlock()
	}
	return tok, nil
}

// Flush writes the last uses noted since the previous flush. A use is never
// moved back: another process may have written a later one.
func (t *Tokens) Flush(ctx context.Context) error {
	t.mu.Lock()
	used := t.used
	t.used = map[int64]time.Time{}
	t.mu.Unlock()
	var errs []error
	for id, at := range used {
		_, err := db.Exec(ctx, t.db, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, at, id, at)
		if err != nil {
			errs = append(errs, err)
			t.note(id, at) // for the next flush
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("record the last use of %d tokens: %w", len(errs), err)
	}
	return nil
}

// note keeps at as the last use of token id unless a later one is noted.
func (t *Tokens) note(id int64, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.used[id]; !ok || cur.Before(at) {
		t.used[id] = at
	}
}

// Start flushes the noted uses every interval, in the background, until
// Close. A failed flush is logged and tried again at the next.
func (t *Tokens) Start(interval time.Duration, logger *slog.Logger) {
	t.stop, t.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(t.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), interval)
				if err := t.Flush(ctx); err != nil {
					logger.Warn("could not record when tokens were last used", "err", err)
				}
				cancel()
			}
		}
	}()
}

// Close stops what Start started and flushes what is left.
func (t *Tokens) Close(ctx context.Context) error {
	if t.stop != nil {
		close(t.stop)
		<-t.done
		t.stop = nil
	}
	return t.Flush(ctx)
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
