package ledger

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// FeedRecord is what recording a release feed did.
type FeedRecord struct {
	// Announced are the releases announced for versions seen for the
	// first time.
	Announced []Announcement
	// Refused are the new versions that could not be announced (a version
	// or title herald does not take): they stay recorded as seen, so that
	// they do not stop the versions after them.
	Refused []RefusedVersion
}

// RefusedVersion is a feed entry the ledger would not announce, and why.
type RefusedVersion struct {
	Version string
	Err     error
}

// RecordFeed records the versions the release feed of product at url lists
// now, oldest first. The first record of a feed only notes its versions (no mail for
// the back catalogue); after that, each version not seen before becomes a
// release, announced as announce makes it. Several pollers may record the
// same feed at once: each new version is announced once.
func (l *Ledger) RecordFeed(ctx context.Context, product, url string, versions []NewRelease, announce func(NewRelease) NewAnnouncement) (FeedRecord, error) {
	var rec FeedRecord
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		rec = FeedRecord{}
		now := l.Now()
		// Whoever inserts the feed's row records it for the first time. On
		// PostgreSQL a second poller's insert waits for the first one's
		// transaction, then finds every version recorded already.
		res, err := db.Exec(ctx, tx, `INSERT INTO feeds (url, product, first_polled_at) VALUES (?, ?, ?) ON CONFLICT (url) DO NOTHING`,
			url, product, now)
		if err != nil {
			return err
		}
		first, _ := res.RowsAffected()
		for _, nr := range versions {
			res, err := db.Exec(ctx, tx, `INSERT INTO feed_versions (url, version, seen_at) VALUES (?, ?, ?) ON CONFLICT (url, version) DO NOTHING`,
				url, nr.Version, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 || first == 1 {
				continue
			}
			if err := nr.Normalize(); err != nil {
				rec.Refused = append(rec.Refused, RefusedVersion{Version: nr.Version, Err: err})
				continue
			}
			_, a, created, err := l.createRelease(ctx, tx, nr, announce)
			if _, bad := fault.As(err); bad {
				rec.Refused = append(rec.Refused, RefusedVersion{Version: nr.Version, Err: err})
				continue
			}
			if err != nil {
				return fmt.Errorf("version %s: %w", nr.Version, err)
			}
			if created {
				rec.Announced = append(rec.Announced, a)
			}
		}
		return nil
	})
	if err != nil {
		return FeedRecord{}, fmt.Errorf("record feed %s: %w", url, err)
	}
	return rec, nil
}
