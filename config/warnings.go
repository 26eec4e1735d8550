package config

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// Warnings are what is allowed but probably wrong in c, one sentence each,
// for the processes that send mail to log at start.
func (c Config) Warnings() []string {
	var w []string
	if c.Mail.SMTPURL != "" && isLoopbackURL(c.Lists.PublicURL) {
		w = append(w, "HERALD_PUBLIC_URL is "+c.Lists.PublicURL+", a loopback address, while mail goes out through "+
			"HERALD_SMTP_URL: recipients cannot open the unsubscribe links; set HERALD_PUBLIC_URL to the address "+
			"people reach herald at, such as https://herald.example.com")
	}
	return w
}

// isLoopbackURL reports whether raw's host is this machine only.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

// defaultPublicURL is the public URL when none is set: the API's own
// address, where a host of "", 0.0.0.0 or :: (every interface) is shown as
// localhost, which a browser on the machine can open.
func defaultPublicURL(httpAddr string) string {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil {
		return "http://" + httpAddr // Validate reports HERALD_HTTP_ADDR
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// InternalURL is the base URL of HERALD_HTTP_ADDR as a browser on this
// machine opens it: where the staff console's sign-in links point.
func (h HTTP) InternalURL() string { return defaultPublicURL(h.Addr) }

// testPrefix marks the variables of herald's own tests, which the
// configuration does not read.
const testPrefix = EnvPrefix + "TEST_"

// UnknownVariables returns a warning for each HERALD_* variable of environ
// (as os.Environ gives it) that herald does not read, naming the closest
// known one: a misspelt setting otherwise silently keeps its default.
func UnknownVariables(environ []string) []string {
	known := append(Names(), EnvPrefix+"CONFIG")
	var w []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) || strings.HasPrefix(name, testPrefix) || slices.Contains(known, name) {
			continue
		}
		msg := name + ": unknown setting"
		if best := closest(name, known); best != "" {
			msg += "; did you mean " + best + "?"
		}
		w = append(w, msg)
	}
	slices.Sort(w)
	return w
}

// closest returns the known names that name probably meant, or "" when
// none is near enough. A known name within a third of the name's length
// after the prefix, and at least two edits, wins (a typo); failing that,
// the known names whose words begin or end with the name's words (split at
// '_'), the closest first: HERALD_REDIS is HERALD_REDIS_URL, HERALD_TOKEN
// is HERALD_ADMIN_TOKEN.
func closest(name string, known []string) string {
	word := strings.TrimPrefix(name, EnvPrefix)
	best, bestDist := "", max(2, len(word)/3)+1
	for _, k := range known {
		if d := editDistance(word, strings.TrimPrefix(k, EnvPrefix)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return best
	}
	var found []string
	for _, k := range known {
		if startsOrEndsWithWords(strings.TrimPrefix(k, EnvPrefix), word) {
			found = append(found, k)
		}
	}
	slices.SortStableFunc(found, func(a, b string) int {
		return editDistance(word, strings.TrimPrefix(a, EnvPrefix)) - editDistance(word, strings.TrimPrefix(b, EnvPrefix))
	})
	switch len(found) {
	case 0:
		return ""
	case 1:
		return found[0]
	default:
		return strings.Join(found[:len(found)-1], ", ") + " or " + found[len(found)-1]
	}
}

// startsOrEndsWithWords reports whether the '_'-separated words of known
// begin or end with all the words of name (and known has more of them).
func startsOrEndsWithWords(known, name string) bool {
	kw, nw := strings.Split(known, "_"), strings.Split(name, "_")
	if len(nw) >= len(kw) || slices.Contains(nw, "") {
		return false
	}
	return slices.Equal(kw[:len(nw)], nw) || slices.Equal(kw[len(kw)-len(nw):], nw)
}

// editDistance is the optimal string alignment distance of a and b: the
// insertions, deletions, substitutions and swaps of neighbours that turn
// one into the other. Names are ASCII.
func editDistance(a, b string) int {
	// Three rows of the dynamic programme: two back, one back, this one.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
