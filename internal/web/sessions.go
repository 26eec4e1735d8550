package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
)

// ErrNoSession is a cookie, or a sign-in link, that does not (or no
// longer) stand for anyone: unknown, expired, used or ended.
var ErrNoSession = errors.New("no such session or link")

// Realm says whose sessions they are: contacts of the portal, or (later)
// staff of the console. A token of one realm never opens the other.
type Realm string

// RealmPortal is the realm of contacts signed in to /account; the subject
// is their address.
const RealmPortal Realm = "portal"

// RealmConsole is the realm of staff signed in to /console; the subject
// is their address.
const RealmConsole Realm = "console"

// Sessions keeps the sign-in links and the sessions of one realm. Only
// the SHA-256 of a token is stored: a copy of the database signs no one
// in. A token has 256 random bits, which needs no password stretching.
type Sessions struct {
	db    *db.DB
	realm Realm
	now   func() time.Time
	// LinkTTL is how long a sign-in link may be used; Idle ends a session
	// that made no request for that long.
	linkTTL, idle time.Duration
}

// NewSessions returns the sessions of realm on d.
func NewSessions(d *db.DB, realm Realm, linkTTL, idle time.Duration, now func() time.Time) *Sessions {
	return &Sessions{db: d, realm: realm, now: now, linkTTL: linkTTL, idle: idle}
}

// Session is a signed-in person.
type Session struct {
	// Subject is whom the session signs in (a contact's address).
	Subject string
	// Hash identifies the session without its token: forms are bound to
	// it.
	Hash string
}

// touchEvery is how stale last_seen_at may be: a page view writes it at
// most this often, not on every request.
const touchEvery = time.Minute

// NewToken returns a random token of 256 bits, URL-safe.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how a token is stored.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether token could be one of NewToken's: others are
// refused before any query.
func wellFormed(token string) bool {
	if len(token) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

func (s *Sessions) at() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// CreateLink makes a sign-in link's token for subject; the caller puts it
// in the mail and nowhere else.
func (s *Sessions) CreateLink(ctx context.Context, subject string) (string, error) {
	// Links and sessions no one can use any more go as new ones come.
	if err := s.Prune(ctx); err != nil {
		return "", err
	}
	token, now := NewToken(), s.at()
	if _, err := db.Exec(ctx, s.db, `INSERT INTO signin_links (hash, realm, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		Hash(token), s.realm, subject, now, now.Add(s.linkTTL)); err != nil {
		return "", fmt.Errorf("create a sign-in link: %w", err)
	}
	return token, nil
}

// PeekLink returns whom a link would sign in, without using it: the page
// a link opens shows it, and mail scanners that open links use nothing.
func (s *Sessions) PeekLink(ctx context.Context, token string) (string, error) {
	if !wellFormed(token) {
		return "", ErrNoSession
	}
	var subject string
	err := db.Get(ctx, s.db.Read, &subject, `SELECT email FROM signin_links WHERE hash = ? AND realm = ? AND used_at IS NULL AND expires_at > ?`,
		Hash(token), s.realm, s.at())
	if db.IsNoRows(err) {
		return "", ErrNoSession
	}
	if err != nil {
		return "", fmt.Errorf("read a sign-in link: %w", err)
	}
	return subject, nil
}

// SignIn uses a link, once, and starts a session for whom it names. It
// returns the session's token, for the cookie.
func (s *Sessions) SignIn(ctx context.Context, link string) (token string, sess Session, err error) {
	if !wellFormed(link) {
		return "", Session{}, ErrNoSession
	}
	now := s.at()
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		// The update takes the link: of two requests with it, one signs in.
		res, err := db.Exec(ctx, tx, `UPDATE signin_links SET used_at = ? WHERE hash = ? AND realm = ? AND used_at IS NULL AND expires_at > ?`,
			now, Hash(link), s.realm, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrNoSession
		}
		if err := db.Get(ctx, tx, &sess.Subject, `SELECT email FROM signin_links WHERE hash = ?`, Hash(link)); err != nil {
			return err
		}
		token = NewToken()
		sess.Hash = Hash(token)
		_, err = db.Exec(ctx, tx, `INSERT INTO web_sessions (hash, realm, subject, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)`,
			sess.Hash, s.realm, sess.Subject, now, now)
		return err
	})
	if errors.Is(err, ErrNoSession) {
		return "", Session{}, err
	}
	if err != nil {
		return "", Session{}, fmt.Errorf("sign in: %w", err)
	}
	return token, sess, nil
}

// Lookup returns the session of a cookie's token, and notes its use. A
// session idle for longer than the timeout has ended.
func (s *Sessions) Lookup(ctx context.Context, token string) (Session, error) {
	if !wellFormed(token) {
		return Session{}, ErrNoSession
	}
	var row struct {
		Subject  string    `db:"subject"`
		LastSeen time.Time `db:"last_seen_at"`
	}
	now, h := s.at(), Hash(token)
	err := db.Get(ctx, s.db.Read, &row, `SELECT subject, last_seen_at FROM web_sessions WHERE hash = ? AND realm = ?`, h, s.realm)
	if db.IsNoRows(err) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("read a session: %w", err)
	}
	if !row.LastSeen.Add(s.idle).After(now) {
		if _, err := db.Exec(ctx, s.db, `DELETE FROM web_sessions WHERE hash = ?`, h); err != nil {
			return Session{}, fmt.Errorf("end an idle session: %w", err)
		}
		return Session{}, ErrNoSession
	}
	if now.Sub(row.LastSeen) >= touchEvery {
		if _, err := db.Exec(ctx, s.db, `UPDATE web_sessions SET last_seen_at = ? WHERE hash = ?`, now, h); err != nil {
			return Session{}, fmt.Errorf("note a session's use: %w", err)
		}
	}
	return Session{Subject: row.Subject, Hash: h}, nil
}

// End ends the session of a token (signing out).
func (s *Sessions) End(ctx context.Context, token string) error {
	if _, err := db.Exec(ctx, s.db, `DELETE FROM web_sessions WHERE hash = ? AND realm = ?`, Hash(token), s.realm); err != nil {
		return fmt.Errorf("end a session: %w", err)
	}
	return nil
}

// EndAll ends every session of subject, and the links not used yet: a
// contact who left every license keeps no way in.
func (s *Sessions) EndAll(ctx context.Context, subject string) error {
	return s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.Exec(ctx, tx, `DELETE FROM web_sessions WHERE realm = ? AND subject = ?`, s.realm, subject); err != nil {
			return fmt.Errorf("end the sessions of a person: %w", err)
		}
		if _, err := db.Exec(ctx, tx, `DELETE FROM signin_links WHERE realm = ? AND email = ? AND used_at IS NULL`, s.realm, subject); err != nil {
			return fmt.Errorf("end the sign-in links of a person: %w", err)
		}
		return nil
	})
}

// Prune deletes the links and sessions that can no longer be used.
func (s *Sessions) Prune(ctx context.Context) error {
	now := s.at()
	if _, err := db.Exec(ctx, s.db, `DELETE FROM signin_links WHERE expires_at < ?`, now); err != nil {
		return fmt.Errorf("prune sign-in links: %w", err)
	}
	if _, err := db.Exec(ctx, s.db, `DELETE FROM web_sessions WHERE realm = ? AND last_seen_at < ?`, s.realm, now.Add(-s.idle)); err != nil {
		return fmt.Errorf("prune sessions: %w", err)
	}
	return nil
}
