package admin

import (
	"context"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/redact"
)

// DefaultPageTimeout bounds a whole request, body included, to a page that
// anyone on the internet may open: a client that sends slowly holds a
// connection and a goroutine no longer than this.
const DefaultPageTimeout = 30 * time.Second

// publicPages are the patterns of routes served to the public, which get
// the page timeout. The API keeps the server's longer limits: its imports
// and exports move megabytes.
var publicPages = map[string]bool{
	"/unsubscribe/{token}": true,
}

// tokenPaths are the path prefixes whose rest is a token that acts for a
// contact (an unsubscribe link): the logs show the prefix only. A route
// that carries a token in its path adds its prefix here.
var tokenPaths = []string{
	"/unsubscribe/",
}

// loggedPath is p as the logs may show it. The log shows the path as
// requested, before the router cleans it and redirects, so the match is on
// the cleaned path and on any segment: //unsubscribe/TOKEN,
// /x/../unsubscribe/TOKEN and /x/unsubscribe/TOKEN carry the token too.
func loggedPath(p string) string {
	segments := strings.Split(path.Clean("/"+p), "/")
	for _, prefix := range tokenPaths {
		words := strings.Split(strings.Trim(prefix, "/"), "/")
		// The prefix followed by at least one segment, the token.
		for i := 0; i+len(words) < len(segments); i++ {
			if equalFold(segments[i:i+len(words)], words) {
				return strings.Join(segments[:i+len(words)], "/") + "/" + redact.Mask
			}
		}
	}
	return p
}

func equalFold(a, b []string) bool {
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// withDeadline bounds the whole of each request to h: reading the body,
// the work (through the context) and writing the answer.
func withDeadline(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline := time.Now().Add(d)
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline)
		// The server sets the read deadline anew for the next request on
		// the connection, but not the write deadline.
		defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
