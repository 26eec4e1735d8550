package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/markdown"
)

// atom is an Atom feed of versions, newest first, each entry's summary
// being summary(version).
func atom(summary func(version string) string, versions ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Jira releases</title><id>urn:jira</id><updated>2026-11-29T00:00:00Z</updated>`)
	for _, v := range versions {
		fmt.Fprintf(&b, `<entry><title>Jira v%s</title><id>urn:jira:%s</id><updated>2026-11-29T00:00:00Z</updated><summary>%s</summary></entry>`, v, v, summary(v))
	}
	b.WriteString(`</feed>`)
	return b.String()
}

func fixed(s string) func(string) string { return func(string) string { return s } }

// countingTransport counts the bytes herald reads of response bodies.
type countingTransport struct{ read atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		res.Body = &countingBody{ReadCloser: res.Body, n: &c.read}
	}
	return res, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// TestReleaseFeedLimits serves feeds that are endless, redirect too often
// or elsewhere than http, or never finish: each poll fails with the reason,
// after reading no more than the limit, and announces nothing.
func TestReleaseFeedLimits(t *testing.T) {
	t.Parallel()
	const maxBytes = 256 << 10

	// After a first poll of a good feed, the feed's handler is replaced
	// by the case's, which would announce 9.5.0 if it were read.
	newEntry := atom(fixed("Faster boards"), "9.5.0", "9.4.0")
	endless := func(written *atomic.Int64) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, newEntry[:len(newEntry)-len(`</feed>`)])
			chunk := []byte(strings.Repeat("<!-- padding -->", 4096))
			for written.Load() < 1<<30 { // 1 GiB, unless herald stops reading
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		}
	}
	redirects := func(n int, last string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			i := -1
			fmt.Sscanf(r.URL.Path, "/hop/%d", &i)
			switch {
			case r.URL.Path == "/feed":
				io.WriteString(w, newEntry)
			case i < n-1:
				http.Redirect(w, r, fmt.Sprintf("/hop/%d", i+1), http.StatusFound)
			case last != "":
				http.Redirect(w, r, last, http.StatusFound)
			default:
				http.Redirect(w, r, "/feed", http.StatusFound)
			}
		}
	}

	for _, tc := range []struct {
		name    string
		handler func(written *atomic.Int64) http.HandlerFunc
		path    string
		want    string // in the error; "" for none
	}{
		{"EndlessBody", endless, "/feed", "larger than 262144 bytes"},
		{"SixRedirects", func(*atomic.Int64) http.HandlerFunc { return redirects(6, "") }, "/hop/0", "stopped after 5 redirects"},
		{"RedirectToAFile", func(*atomic.Int64) http.HandlerFunc { return redirects(1, "file:///etc/passwd") }, "/hop/0", "http or https only"},
		{"RedirectToFTP", func(*atomic.Int64) http.HandlerFunc { return redirects(1, "ftp://vendor.test/feed") }, "/hop/0", "http or https only"},
		{"SlowServer", func(*atomic.Int64) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, newEntry[:100])
				w.(http.Flusher).Flush()
				<-r.Context().Done() // herald gives up first
			}
		}, "/feed", "no complete answer within 2s (HERALD_FEED_TIMEOUT)"},
		{"FiveRedirectsAreFollowed", func(*atomic.Int64) http.HandlerFunc { return redirects(5, "") }, "/hop/0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
				ctx := context.Background()
				var written atomic.Int64
				var current atomic.Pointer[http.HandlerFunc]
				first := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, atom(fixed("Old"), "9.4.0")) })
				current.Store(&first)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load())(w, r) }))
				t.Cleanup(srv.Close)
				b := setup(t, database, func(c *config.Config) {
					c.Feeds.ReleaseFeeds = config.ReleaseFeeds{{Product: "jira", URL: srv.URL + tc.path}}
					c.Feeds.MaxBytes = maxBytes
					c.Feeds.Timeout = 2 * time.Second
				})
				acme(t, b, apptest.Tech("ann@acme.test", ""))
				poller := b.Jobs.Feeds
				counting := &countingTransport{}
				poller.HTTP = &http.Client{Transport: counting}
				if res, err := poller.Poll(ctx); err != nil || res.Feeds[0].Error != "" {
					t.Fatalf("first poll: %+v, %v", res, err)
				}

				h := tc.handler(&written)
				current.Store(&h)
				res, err := poller.Poll(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got := res.Feeds[0].Error
				if tc.want == "" {
					if got != "" || res.AnnouncementsCreated != 1 {
						t.Errorf("poll: %+v, want 9.5.0 announced", res)
					}
					return
				}
				if !strings.Contains(got, tc.want) || res.AnnouncementsCreated != 0 {
					t.Errorf("poll: %+v, want the error %q and nothing announced", res, tc.want)
				}
				rels, err := b.Ledger.Releases(ctx, "jira", pageAll)
				if err != nil || len(rels.Items) != 0 {
					t.Errorf("releases: %+v, %v; want none", rels.Items, err)
				}
				if read := counting.read.Load(); read > maxBytes+1+int64(len(newEntry)) {
					t.Errorf("herald read %d bytes of the feed, over the limit of %d", read, maxBytes)
				}
				if w := written.Load(); w >= 1<<30 {
					t.Errorf("the server wrote all %d bytes: herald did not stop reading", w)
				}
			})
		})
	}
}

// TestReleaseFeedEntryOverTheLimit: an entry whose notes are over the
// limit of release notes is reported and not announced; the next one is.
func TestReleaseFeedEntryOverTheLimit(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		ctx := context.Background()
		var body atomic.Value
		body.Store(atom(fixed("Old"), "9.4.0"))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body.Load().(string)) }))
		t.Cleanup(srv.Close)
		b := setup(t, database, func(c *config.Config) {
			c.Feeds.ReleaseFeeds = config.ReleaseFeeds{{Product: "jira", URL: srv.URL}}
		})
		acme(t, b, apptest.Tech("ann@acme.test", ""))
		if res, err := b.Jobs.Feeds.Poll(ctx); err != nil || res.Feeds[0].Error != "" {
			t.Fatalf("first poll: %+v, %v", res, err)
		}

		body.Store(atom(func(v string) string {
			switch v {
			case "9.5.0":
				return strings.Repeat("Many changes. ", markdown.MaxBytes/14+1)
			case "9.5.1":
				return strings.Repeat("*a_", 8<<10)
			}
			return "Faster boards"
		}, "9.6.0", "9.5.1", "9.5.0", "9.4.0"))
		res, err := b.Jobs.Feeds.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		refused := res.Feeds[0].Refused
		if res.AnnouncementsCreated != 1 || res.Feeds[0].Error != "" || len(refused) != 2 ||
			refused[0].Version != "9.5.0" || !strings.HasPrefix(refused[0].Error, "notes: is ") ||
			refused[1].Version != "9.5.1" || !strings.Contains(refused[1].Error, "emphasis") {
			t.Fatalf("poll: %+v, want 9.5.0 and 9.5.1 refused, 9.6.0 announced", res)
		}
		rels, err := b.Ledger.Releases(ctx, "jira", pageAll)
		if err != nil || len(rels.Items) != 1 || rels.Items[0].Version != "9.6.0" {
			t.Errorf("releases: %+v, %v; want 9.6.0 only", rels.Items, err)
		}
	})
}

// TestReleaseFeedPasswordsStayOut polls a feed whose URL holds a password:
// the result that the API and the job log show names the feed without it.
func TestReleaseFeedPasswordsStayOut(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	t.Cleanup(down.Close)
	withPassword := strings.Replace(down.URL, "http://", "http://feeds:s3cr3t-feed-pass@", 1) + "/jira.atom"
	b := setup(t, dbtest.SQLite, func(c *config.Config) {
		c.Feeds.ReleaseFeeds = config.ReleaseFeeds{{Product: "jira", URL: withPassword}}
	})
	res, err := b.Jobs.Feeds.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Feeds[0]
	if fr.Error == "" {
		t.Fatalf("a feed answering 500 gave no error: %+v", fr)
	}
	if strings.Contains(fr.URL+fr.Error+res.String(), "s3cr3t-feed-pass") {
		t.Errorf("the result shows the feed's password: %+v", fr)
	}
	if !strings.Contains(fr.URL, "feeds:") || !strings.Contains(fr.URL, "/jira.atom") {
		t.Errorf("result URL %q, want the feed named, its password masked", fr.URL)
	}
}
