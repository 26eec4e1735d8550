package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// FeedPoller announces the new versions of products' release feeds. The
// first poll of a feed only records the versions it lists (no mail for the
// back catalogue); each later new version becomes a release announcement,
// once, even when several schedulers poll at the same time.
type FeedPoller struct {
	Feeds  []config.ReleaseFeed
	Ledger *ledger.Ledger
	Queue  *queue.Queue
	HTTP   *http.Client
	Logger *slog.Logger
}

// FeedResult is the outcome of one feed's poll.
type FeedResult struct {
	Product string `json:"product"`
	URL     string `json:"url"`
	// Error is why the feed could not be read; it is tried again on the
	// next poll.
	Error string `json:"error,omitempty"`
}

// FeedsResult is the outcome of a poll of every feed.
type FeedsResult struct {
	AnnouncementsCreated int          `json:"announcements_created"`
	Feeds                []FeedResult `json:"feeds"`
}

func (r FeedsResult) String() string {
	failed := 0
	for _, f := range r.Feeds {
		if f.Error != "" {
			failed++
		}
	}
	return fmt.Sprintf("%d feeds polled, %d failed, %d announcements created", len(r.Feeds), failed, r.AnnouncementsCreated)
}

// Poll reads every feed. A feed that fails is logged with its URL and
// reported; the others go on.
func (p *FeedPoller) Poll(ctx context.Context) (FeedsResult, error) {
	res := FeedsResult{Feeds: []FeedResult{}}
	for _, f := range p.Feeds {
		fr := FeedResult{Product: f.Product, URL: f.URL}
		made, err := p.poll(ctx, f)
		if err != nil {
			fr.Error = err.Error()
			p.Logger.Warn("release feed failed; it is tried again on the next poll", "product", f.Product, "url", f.URL, "err", err)
		}
		res.AnnouncementsCreated += len(made)
		for _, a := range made {
			p.Queue.TryEnqueue(ctx, queue.NewFanoutTask(a.ID), p.Logger)
		}
		res.Feeds = append(res.Feeds, fr)
	}
	return res, nil
}

// entry is a feed entry that names a version.
type entry struct {
	version, title, link, notes string
}

func (p *FeedPoller) poll(ctx context.Context, f config.ReleaseFeed) ([]ledger.Announcement, error) {
	entries, err := p.fetch(ctx, f)
	if err != nil {
		return nil, err
	}
	var made []ledger.Announcement
	err = p.Ledger.DB().InTx(ctx, func(tx *sqlx.Tx) error {
		made = nil
		now := p.Ledger.Now()
		// Whoever inserts the feed's row polls it for the first time. On
		// PostgreSQL a second poller's insert waits for the first one's
		// transaction, then finds every version recorded already.
		res, err := db.Exec(ctx, tx, `INSERT INTO feeds (url, product, first_polled_at) VALUES (?, ?, ?) ON CONFLICT (url) DO NOTHING`,
			f.URL, f.Product, now)
		if err != nil {
			return err
		}
		first, _ := res.RowsAffected()
		for _, e := range entries {
			res, err := db.Exec(ctx, tx, `INSERT INTO feed_versions (url, version, seen_at) VALUES (?, ?, ?) ON CONFLICT (url, version) DO NOTHING`,
				f.URL, e.version, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 || first == 1 {
				continue
			}
			_, a, created, err := p.Ledger.CreateReleaseTx(ctx, tx, ledger.NewRelease{
				Product: f.Product, Version: e.version, Title: e.title, Notes: e.notes, URL: e.link,
			})
			if _, bad := fault.As(err); bad {
				// An entry herald cannot announce must not stop the feed:
				// it stays recorded as seen, and the next versions go on.
				p.Logger.Warn("release feed entry skipped", "product", f.Product, "url", f.URL, "version", e.version, "err", err)
				continue
			}
			if err != nil {
				return fmt.Errorf("version %s: %w", e.version, err)
			}
			if created {
				made = append(made, a)
			}
		}
		return nil
	})
	return made, err
}

// fetch reads a feed and returns its entries that name a version, oldest
// first.
func (p *FeedPoller) fetch(ctx context.Context, f config.ReleaseFeed) ([]entry, error) {
	parser := gofeed.NewParser()
	parser.Client = p.HTTP
	parser.UserAgent = "herald release-feed poller"
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	feed, err := parser.ParseURLWithContext(f.URL, ctx)
	if err != nil {
		return nil, err
	}
	pattern := f.VersionPattern()
	var out []entry
	seen := map[string]bool{}
	for i := len(feed.Items) - 1; i >= 0; i-- {
		item := feed.Items[i]
		m := pattern.FindStringSubmatch(item.Title)
		if len(m) < 2 || seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		notes := item.Description
		if item.Content != "" {
			notes = item.Content
		}
		title := clip(strings.Join(strings.Fields(strings.Map(printable, item.Title)), " "), 200)
		link := item.Link
		if !strings.HasPrefix(link, "https://") && !strings.HasPrefix(link, "http://") {
			link = ""
		}
		out = append(out, entry{version: m[1], title: title, link: link, notes: clipBytes(strings.Map(printable, textOf(notes)), 60<<10)})
	}
	return out, nil
}

// textOf turns a feed's HTML summary into plain text for the release notes
// (which are Markdown): tags go, paragraphs and list items stay apart.
func textOf(s string) string {
	if !strings.Contains(s, "<") {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(collapseBlankLines(b.String()))
		case html.TextToken:
			if skip == 0 {
				b.WriteString(strings.Join(strings.Fields(string(z.Text())), " "))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip++
			case "li":
				b.WriteString("\n* ")
			case "p", "div", "br", "h1", "h2", "h3", "h4", "ul", "ol", "tr":
				b.WriteString("\n\n")
			default:
				b.WriteString(" ")
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style":
				skip = max(skip-1, 0)
			case "p", "div", "h1", "h2", "h3", "h4", "ul", "ol":
				b.WriteString("\n\n")
			}
		}
	}
}

func collapseBlankLines(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// printable drops control characters other than line breaks and tabs.
func printable(r rune) rune {
	if r == '\n' || r == '\t' || !unicode.IsControl(r) {
		return r
	}
	return -1
}

// clip cuts s to at most n runes.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// clipBytes cuts s to at most n bytes, at a rune boundary, marking the cut.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "\n\n…"
}
