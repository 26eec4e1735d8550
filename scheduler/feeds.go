package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"

	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/redact"
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
	// HTTP is the client feeds are fetched with (http.DefaultClient when
	// nil); its redirect policy is replaced by feeds' own.
	HTTP *http.Client
	// MaxBytes bounds what is read of one feed; Timeout its whole fetch.
	MaxBytes int64
	Timeout  time.Duration
	Logger   *slog.Logger
}

// FeedResult is the outcome of one feed's poll.
type FeedResult struct {
	Product string `json:"product"`
	URL     string `json:"url"`
	// Error is why the feed could not be read; it is tried again on the
	// next poll.
	Error string `json:"error,omitempty"`
	// Refused are the new entries herald could not announce (notes over
	// the size limit, or too slow to render); they are not tried again.
	Refused []RefusedEntry `json:"refused,omitempty"`
}

// RefusedEntry is a feed entry that was not announced, and why.
type RefusedEntry struct {
	Version string `json:"version"`
	Error   string `json:"error"`
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
		fr := FeedResult{Product: f.Product, URL: redact.URL(f.URL)}
		made, refused, err := p.poll(ctx, f)
		fr.Refused = refused
		if err != nil {
			fr.Error = err.Error()
			p.Logger.Warn("release feed failed; it is tried again on the next poll", "product", f.Product, "url", redact.URL(f.URL), "err", redact.Error(err, f.URL))
		}
		res.AnnouncementsCreated += len(made)
		for _, a := range made {
			p.Queue.TryEnqueue(ctx, queue.NewFanoutTask(a.ID), p.Logger)
		}
		res.Feeds = append(res.Feeds, fr)
	}
	return res, nil
}

func (p *FeedPoller) poll(ctx context.Context, f Feed) ([]ledger.Announcement, []RefusedEntry, error) {
	versions, err := p.fetch(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	rec, err := p.Ledger.RecordFeed(ctx, f.Product, f.URL, versions, kinds.ReleaseAnnouncement)
	var refused []RefusedEntry
	for _, r := range rec.Refused {
		// An entry herald cannot announce must not stop the feed: it
		// stays recorded as seen, and the next versions go on.
		p.Logger.Warn("release feed entry skipped", "product", f.Product, "url", redact.URL(f.URL), "version", r.Version, "err", r.Err)
		refused = append(refused, RefusedEntry{Version: r.Version, Error: r.Err.Error()})
	}
	return rec.Announced, refused, err
}

// maxFeedRedirects bounds the redirects a feed's fetch follows.
const maxFeedRedirects = 5

// fetch reads a feed, at most MaxBytes of it within Timeout, and returns
// the releases its entries name, oldest first. A feed is only read over
// http and https, also after a redirect: a feed URL must not reach files
// or other schemes through a redirect.
func (p *FeedPoller) fetch(ctx context.Context, f Feed) ([]ledger.NewRelease, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	client := http.Client{CheckRedirect: checkFeedRedirect}
	if p.HTTP != nil {
		client.Transport, client.Jar = p.HTTP.Transport, p.HTTP.Jar
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "herald release-feed poller")
	res, err := client.Do(req)
	if err != nil {
		return nil, p.timedOut(ctx, err)
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, fmt.Errorf("http error: %s", res.Status)
	}
	// One byte more than allowed tells a feed at the limit from one over it.
	body, err := io.ReadAll(io.LimitReader(res.Body, p.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read feed: %w", p.timedOut(ctx, err))
	}
	if int64(len(body)) > p.MaxBytes {
		return nil, fmt.Errorf("the feed is larger than %d bytes (HERALD_FEED_MAX_BYTES); nothing of it is announced", p.MaxBytes)
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
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
		// Notes over the limit are not cut: the ledger refuses the entry,
		// and the poll reports it.
		out = append(out, ledger.NewRelease{Product: f.Product, Version: m[1], Title: title, URL: link,
			Notes: strings.Map(printable, textOf(notes))})
	}
	return out, nil
}

// timedOut says so when err is the fetch's timeout.
func (p *FeedPoller) timedOut(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no complete answer within %s (HERALD_FEED_TIMEOUT): %w", p.Timeout, err)
	}
	return err
}

func checkFeedRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxFeedRedirects {
		return fmt.Errorf("stopped after %d redirects", maxFeedRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirected to %s: a feed is read over http or https only", req.URL.Redacted())
	}
	return nil
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
