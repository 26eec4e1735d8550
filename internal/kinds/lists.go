package kinds

import (
	"net/url"

	"github.com/heraldhq/herald/internal/unsubscribe"
)

// lists makes the unsubscribe links of release notices and broadcasts
// (RFC 8058 one-click). Without tokens it makes none.
type lists struct {
	tokens *unsubscribe.Tokens
	// publicURL is the base of the links, such as https://herald.example.com.
	publicURL string
	// mailto, if set, is an address that also unsubscribes (the token in
	// the subject).
	mailto string
}

// unsubscribe returns the unsubscribe link of email from category, for the message's
// text, and its List-Unsubscribe and List-Unsubscribe-Post headers.
func (l *lists) unsubscribe(email, category string) (link string, headers [][2]string) {
	if l.tokens == nil {
		return "", nil
	}
	token := l.tokens.Make(email, category)
	link = l.publicURL + "/unsubscribe/" + token
	value := "<" + link + ">"
	if l.mailto != "" {
		// RFC 6068: a space is %20 in a mailto URI; a + would stay a +.
		value += ", <mailto:" + l.mailto + "?subject=" + url.PathEscape("unsubscribe "+token) + ">"
	}
	return link, [][2]string{
		{"List-Unsubscribe", value},
		{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
	}
}

// account is the contacts portal's address, where a contact manages who
// receives a license's mail; empty without a public URL.
func (l *lists) account() string {
	if l.publicURL == "" {
		return ""
	}
	return l.publicURL + "/account"
}
