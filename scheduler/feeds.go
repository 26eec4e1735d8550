package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// Feed is a product's release feed (Atom, RSS or JSON Feed).
type Feed struct {
	Product string
	URL     string
	// Version finds the version in an entry's title: its first group.
	Version *regexp.Regexp
}

// FeedPoller announces the new versions of products' release feeds. The
// first poll of a feed only records the versions it lists (no mail for the
// back catalogue); each later new version becomes a release announcement,
// once, even when several schedulers poll at the same time.
type FeedPoller struct {
	Feeds  []Feed
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

func (p *FeedPoller) poll(ctx context.Context, f Feed) ([]ledger.Announcement, error) {
	versions, err := p.fetch(ctx, f)
	if err != nil {
		return nil, err
	}
	rec, err := p.Ledger.RecordFeed(ctx, f.Product, f.URL, versions, kinds.ReleaseAnnouncement)
	for _, r := range rec.Refused {
		// An entry herald cannot announce must not stop the feed: it
		// stays recorded as seen, and the next versions go on.
		p.Logger.Warn("release feed entry skipped", "product", f.Product, "url", f.URL, "version", r.Version, "err", r.Err)
	}
	return rec.Announced, err
}

// fetch reads a feed and returns the releases its entries name, oldest
// first.
func (p *FeedPoller) fetch(ctx context.Context, f Feed) ([]ledger.NewRelease, error) {
	parser := gofeed.NewParser()
	parser.Client = p.HTTP
	parser.UserAgent = "herald release-feed poller"
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	feed, err := parser.ParseURLWithContext(f.URL, ctx)
	if err != nil {
		return nil, err
	}
	var out []ledger.NewRelease
	seen := map[string]bool{}
	for i := len(feed.Items) - 1; i >= 0; i-- {
		item := feed.Items[i]
		m := f.Version.FindStringSubmatch(item.Title)
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
		out = append(out, ledger.NewRelease{Product: f.Product, Version: m[1], Title: title, URL: link,
			Notes: clipBytes(strings.Map(printable, textOf(notes)), 60<<10)})
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
