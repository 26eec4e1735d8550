package admin

import (
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
	"/account/sign-in/", // a sign-in link
}

// loggedPath is path as the logs may show it.
func loggedPath(path string) string {
	for _, p := range tokenPaths {
		if strings.HasPrefix(path, p) {
			return p + redact.Mask
		}
	}
	return path
}
