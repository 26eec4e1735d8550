package ledger

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/markdown"
	"github.com/heraldhq/herald/internal/page"
)

// Release is a version of a product that was announced.
type Release struct {
	ID             int64     `db:"id" json:"-"`
	Product        string    `db:"product" json:"product"`
	Version        string    `db:"version" json:"version"`
	Title          string    `db:"title" json:"title"`
	Notes          string    `db:"notes" json:"notes"`
	URL            string    `db:"url" json:"url"`
	AnnouncementID int64     `db:"announcement_id" json:"-"`
	CreatedAt      time.Time `db:"created_at" json:"-"`
}

// NewRelease is a release to announce. SendAt in the future schedules it.
type NewRelease struct {
	Product string
	Version string
	Title   string
	Notes   string // Markdown
	URL     string
	SendAt  time.Time
}

var versionPattern = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z.+_~-]{0,63}$`)

// Normalize checks a release and puts it in the form it is stored in,
// naming fields as the API does; CreateRelease calls it, and forms that
// show a release before it is made call it first.
func (nr *NewRelease) Normalize() error {
	var err error
	if nr.Product, err = contacts.NormalizeProduct("product", nr.Product); err != nil {
		return err
	}
	nr.Version = strings.TrimSpace(nr.Version)
	if nr.Version == "" {
		return fault.Invalid("version", "is required")
	}
	if !versionPattern.MatchString(nr.Version) {
		return fault.Invalid("version", "%q is not a version (letters, digits, '.', '+', '_', '~' and '-', up to 64 characters)", nr.Version)
	}
	if nr.Title, err = contacts.NormalizeName("title", nr.Title, false); err != nil {
		return err
	}
	nr.Notes = strings.TrimSpace(nr.Notes)
	if !utf8.ValidString(nr.Notes) || strings.ContainsRune(nr.Notes, 0) {
		return fault.Invalid("notes", "must be UTF-8 text without NUL characters")
	}
	if err := markdown.Validate("notes", nr.Notes); err != nil {
		return err
	}
	if nr.URL != "" {
		u, err := url.Parse(nr.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(nr.URL, "\r\n") {
			return fault.Invalid("url", "%q is not an http(s) URL", nr.URL)
		}
	}
	return nil
}

// CreateRelease records a release and its announcement in one
// transaction. announce makes the announcement of the release once it is
// checked: what a release notice is belongs to its kind, not to the ledger.
// The same product and version again returns the existing release and
// announcement with created false, and creates nothing.
func (l *Ledger) CreateRelease(ctx context.Context, nr NewRelease, announce func(NewRelease) NewAnnouncement) (Release, Announcement, bool, error) {
	if err := nr.Normalize(); err != nil {
		return Release{}, Announcement{}, false, err
	}
	var (
		rel     Release
		a       Announcement
		created bool
	)
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		rel, a, created, err = l.createRelease(ctx, tx, nr, announce)
		return err
	})
	if err != nil {
		return Release{}, Announcement{}, false, fmt.Errorf("release %s %s: %w", nr.Product, nr.Version, err)
	}
	a, err = l.Get(ctx, a.ID)
	return rel, a, created, err
}

// createRelease is CreateRelease in tx, for a checked release.
func (l *Ledger) createRelease(ctx context.Context, tx *sqlx.Tx, nr NewRelease, announce func(NewRelease) NewAnnouncement) (Release, Announcement, bool, error) {
	if nr.Title == "" {
		// Untitled, a release is called by its product's display name
		// ("Jira Software 9.4.1"), or its key when it has none.
		name := nr.Product
		var named []string
		if err := db.Select(ctx, tx, &named, `SELECT name FROM products WHERE key = ?`, nr.Product); err != nil {
			return Release{}, Announcement{}, false, fmt.Errorf("read the product's name: %w", err)
		}
		if len(named) == 1 && named[0] != "" {
			name = named[0]
		}
		nr.Title = name + " " + nr.Version
	}
	a, created, err := l.Create(ctx, tx, announce(nr))
	if err != nil {
		return Release{}, Announcement{}, false, err
	}
	if created {
		if _, err := db.Exec(ctx, tx, `
			INSERT INTO releases (product, version, title, notes, url, announcement_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			nr.Product, nr.Version, nr.Title, nr.Notes, nr.URL, a.ID, l.Now()); err != nil {
			return Release{}, Announcement{}, false, fmt.Errorf("insert release: %w", err)
		}
	}
	var rel Release
	if err := db.Get(ctx, tx, &rel, `SELECT id, product, version, title, notes, url, announcement_id, created_at
		FROM releases WHERE product = ? AND version = ?`, nr.Product, nr.Version); err != nil {
		return Release{}, Announcement{}, false, err
	}
	rel.CreatedAt = rel.CreatedAt.UTC()
	return rel, a, created, nil
}

// FindRelease returns the release of product and version: found is false
// when there is none yet.
func (l *Ledger) FindRelease(ctx context.Context, product, version string) (rel Release, found bool, err error) {
	err = db.Get(ctx, l.db.Read, &rel, `SELECT id, product, version, title, notes, url, announcement_id, created_at
		FROM releases WHERE product = ? AND version = ?`, product, version)
	if db.IsNoRows(err) {
		return Release{}, false, nil
	}
	if err != nil {
		return Release{}, false, fmt.Errorf("find release %s %s: %w", product, version, err)
	}
	rel.CreatedAt = rel.CreatedAt.UTC()
	return rel, true, nil
}

// Releases lists releases, newest first, of one product or all.
func (l *Ledger) Releases(ctx context.Context, product string, req page.Request) (page.Page[Release], error) {
	limit, afterID, err := req.DecodeID()
	if err != nil {
		return page.Page[Release]{}, err
	}
	query := `SELECT id, product, version, title, notes, url, announcement_id, created_at FROM releases WHERE 1 = 1`
	var args []any
	if afterID != 0 {
		query += ` AND id < ?`
		args = append(args, afterID)
	}
	if product != "" {
		if product, err = contacts.NormalizeProduct("product", product); err != nil {
			return page.Page[Release]{}, err
		}
		query += ` AND product = ?`
		args = append(args, product)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	var rels []Release
	if err := db.Select(ctx, l.db.Read, &rels, query, args...); err != nil {
		return page.Page[Release]{}, fmt.Errorf("list releases: %w", err)
	}
	for i := range rels {
		rels[i].CreatedAt = rels[i].CreatedAt.UTC()
	}
	return page.OfID(rels, limit, func(r Release) int64 { return r.ID }), nil
}
