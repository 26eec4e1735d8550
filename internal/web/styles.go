package web

import (
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// StyleHashes returns the Content-Security-Policy hash sources
// ('sha256-…') of the inline styles of the HTML document doc: each style
// attribute's value and each style element's text, once each, sorted. A
// page that frames doc in a sandboxed srcdoc frame allows them through
// Policy.Styles, and so shows doc with its styles.
func StyleHashes(doc string) []string {
	seen := map[string]bool{}
	add := func(css string) {
		if len(seen) < maxStyles {
			seen[HashSource(css)] = true
		}
	}
	z := html.NewTokenizer(strings.NewReader(doc))
	inStyle := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			out := make([]string, 0, len(seen))
			for h := range seen {
				out = append(out, h)
			}
			slices.Sort(out)
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			for _, a := range t.Attr {
				if a.Namespace == "" && strings.EqualFold(a.Key, "style") {
					add(a.Val)
				}
			}
			inStyle = t.Data == "style"
		case html.TextToken:
			if inStyle {
				// The raw text, as the browser hashes it: the
				// tokenizer leaves a style element's text unescaped.
				add(string(z.Text()))
			}
		case html.EndTagToken:
			inStyle = false
		}
	}
}

// maxStyles bounds the styles a page allows by hash, and so its policy's
// length: herald's own templates use about twenty.
const maxStyles = 200
