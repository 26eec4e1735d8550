package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
	"golang.org/x/net/html"

	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/web"
)

// queuesRoot is where asynqmon, the asynq queue dashboard, is served, to
// admins only: it can delete and run any task.
const queuesRoot = "/console/queues"

// scripted says whether the route of pattern takes changes from a script
// (asynqmon's page calls its API with fetch, DELETE and POST) rather than
// from forms: they carry no form token, and are checked by their Origin.
func scripted(pattern string) bool { return pattern == queuesRoot || pattern == queuesRoot+"/" }

// sharedRedis hands asynqmon herald's own Redis connection, so that it
// works on the embedded Redis (whose password only herald knows) as on a
// real one. asynqmon would close it on Close: herald never calls that, and
// closes the connection with its queue.
type sharedRedis struct{ rdb redis.UniversalClient }

func (s sharedRedis) MakeRedisClient() any { return s.rdb }

// newQueues returns asynqmon on q's Redis, and the policy its page needs:
// the strict one, plus its two inline scripts by their hashes (taken from
// the page it serves, so a new asynqmon brings its own), the styles its
// script inserts (Material UI writes <style> elements as it runs), and
// its own API for fetch. Nothing else is allowed, so its page loads no
// web fonts from other sites and falls back to the system's.
func newQueues(q *queue.Queue) (http.Handler, web.Policy, error) {
	mon := asynqmon.New(asynqmon.Options{RootPath: queuesRoot, RedisConnOpt: sharedRedis{q.Redis()}})
	rec := httptest.NewRecorder()
	mon.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, queuesRoot+"/", nil))
	if rec.Code != http.StatusOK {
		return nil, web.Policy{}, fmt.Errorf("asynqmon's page: status %d", rec.Code)
	}
	scripts, err := inlineScripts(rec.Body.String())
	if err != nil {
		return nil, web.Policy{}, fmt.Errorf("asynqmon's page: %w", err)
	}
	hashes := make([]string, len(scripts))
	for i, s := range scripts {
		hashes[i] = web.HashSource(s)
	}
	return mon, web.Policy{More: map[string][]string{
		"script-src":   hashes,
		"style-src":    {"'unsafe-inline'"},
		"connect-src":  {"'self'"},
		"manifest-src": {"'self'"},
	}}, nil
}

// inlineScripts returns the text of the <script> elements of doc that
// have no src.
func inlineScripts(doc string) ([]string, error) {
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		return nil, err
	}
	var scripts []string
	for n := range root.Descendants() {
		if n.Type != html.ElementNode || n.Data != "script" || hasAttr(n, "src") {
			continue
		}
		var text strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			text.WriteString(c.Data)
		}
		scripts = append(scripts, text.String())
	}
	return scripts, nil
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// serveQueues serves asynqmon: its page with the policy that lets it run,
// its files, and its API. The handler has checked the session, the
// admin's role and, for a change, that it comes from the console's own
// pages; the session cookie is SameSite=Lax besides, so no other site's
// script or form sends it along.
func (c *Console) serveQueues(v *visit) error {
	if c.queues == nil {
		return c.notFound(v)
	}
	h := v.w.Header()
	web.SecureHeaders(h)
	h.Set("Content-Security-Policy", c.queuesPolicy.String())
	if strings.HasPrefix(v.r.URL.Path, queuesRoot+"/static/") {
		// Its scripts' names carry their hash: they may be kept.
		h.Set("Cache-Control", "private, max-age=86400")
	}
	c.queues.ServeHTTP(v.w, v.r)
	return nil
}
