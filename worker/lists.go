package worker

import (
	"net/url"

	"github.com/heraldhq/herald/internal/unsubscribe"
)

// Lists makes the unsubscribe links of release notices and broadcasts
// (RFC 8058 one-click). A nil *Lists makes none.
type Lists struct {
	Tokens *unsubscribe.Tokens
	// PublicURL is the base of the links, such as https://herald.example.com.
	PublicURL string
	// Mailto, if set, is an address that also unsubscribes (the token in
	// the subject).
	Mailto string
}

// URL is the unsubscribe link of email.
func (l *Lists) URL(email string) string {
	if l == nil || l.Tokens == nil {
		return ""
	}
	return l.PublicURL + "/unsubscribe/" + l.Tokens.Make(email, unsubscribe.CategoryAnnouncements)
}

// Headers are List-Unsubscribe and List-Unsubscribe-Post for email.
func (l *Lists) Headers(email string) [][2]string {
	link := l.URL(email)
	if link == "" {
		return nil
	}
	value := "<" + link + ">"
	if l.Mailto != "" {
		token := l.Tokens.Make(email, unsubscribe.CategoryAnnouncements)
		// RFC 6068: a space is %20 in a mailto URI; a + would stay a +.
		value += ", <mailto:" + l.Mailto + "?subject=" + url.PathEscape("unsubscribe "+token) + ">"
	}
	return [][2]string{
		{"List-Unsubscribe", value},
		{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
	}
}
