// Package redact keeps secrets out of what herald prints: the passwords of
// the URL settings (database, Redis, SMTP), in error messages and logs,
// whether or not the URL parses.
package redact

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask stands in for a secret.
const Mask = "xxxxx"

// URL returns raw with the password of its user information, and the
// values of password-like query parameters or key=value words, replaced by
// Mask. It works on the text rather than on url.Parse's result: a URL that
// does not parse (the case that ends in an error message) must be
// redacted too, and a password with an unescaped '/', '?' or '#' parses
// as part of a path, where URL.Redacted would leave it.
func URL(raw string) string {
	shown, _ := scrub(raw)
	return shown
}

// Error returns err with every form of the secrets in raw (the URL err was
// about) replaced, for drivers whose errors quote the URL they were given.
// A secret is replaced where it stands on its own, not inside a longer
// word: a short password must not scramble the host names, ports and
// words of the server's answer around it (WRONG in WRONGPASS, 1 in
// 127.0.0.1), and these never hold it. errors.Is and errors.As see err
// unchanged.
func Error(err error, raw string) error {
	if err == nil {
		return nil
	}
	shown, secrets := scrub(raw)
	msg := err.Error()
	if raw != shown {
		msg = strings.ReplaceAll(msg, raw, shown)
	}
	for _, s := range secrets {
		for _, form := range forms(s) {
			msg = replaceWords(msg, form)
		}
	}
	if msg == err.Error() {
		return err
	}
	return &redacted{err: err, msg: msg}
}

type redacted struct {
	err error
	msg string
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// scrub returns raw as it may be shown, and the secrets it held.
func scrub(raw string) (shown string, secrets []string) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		// sqlite:PATH holds no secret; a key=value DSN ("host=db
		// password=…") may.
		return scrubWords(raw)
	}
	// The user information ends at the last '@': an unescaped '@' in a
	// password comes before it. Everything after the user name's ':' up to
	// there is the password.
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, pass, ok := strings.Cut(rest[:at], ":"); ok {
			if pass != "" {
				secrets = append(secrets, pass)
			}
			rest = user + ":" + Mask + rest[at:]
		}
	}
	if base, query, ok := strings.Cut(rest, "?"); ok {
		params := strings.Split(query, "&")
		for i, p := range params {
			if key, value, ok := strings.Cut(p, "="); ok && secretKey(key) && value != "" {
				secrets = append(secrets, value)
				params[i] = key + "=" + Mask
			}
		}
		rest = base + "?" + strings.Join(params, "&")
	}
	return scheme + "://" + rest, secrets
}

// word is one key=value of a PostgreSQL keyword DSN; a value may be quoted.
var word = regexp.MustCompile(`([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)`)

func scrubWords(raw string) (string, []string) {
	var secrets []string
	shown := word.ReplaceAllStringFunc(raw, func(w string) string {
		m := word.FindStringSubmatch(w)
		if !secretKey(m[1]) || m[2] == "" {
			return w
		}
		secrets = append(secrets, m[2], strings.Trim(m[2], "'"))
		return m[1] + "=" + Mask
	})
	return shown, secrets
}

// secretKey reports whether a parameter named key holds a secret
// (password, sslpassword, pass, secret, token).
func secretKey(key string) bool {
	key = strings.ToLower(key)
	return strings.Contains(key, "pass") || strings.Contains(key, "secret") || strings.Contains(key, "token")
}

// forms are the ways a secret as written in a URL may appear in a message:
// as written, decoded by the parser that quotes it, and, for a password
// with an unescaped '@', each piece of it: a parser that splits the user
// information at the first '@' takes the rest of the password for the host
// and names it in its errors ("lookup RETpw@db: no such host").
func forms(s string) []string {
	out := []string{s}
	if strings.Contains(s, "@") {
		for piece := range strings.SplitSeq(s, "@") {
			if piece != "" {
				out = append(out, piece)
			}
		}
	}
	if d, err := url.PathUnescape(s); err == nil && d != s {
		out = append(out, d)
	}
	if d, err := url.QueryUnescape(s); err == nil && d != s {
		out = append(out, d)
	}
	if e := url.QueryEscape(s); e != s {
		out = append(out, e)
	}
	return out
}

// replaceWords returns msg with each occurrence of secret that is not part
// of a longer word replaced by Mask. An occurrence is part of a longer word
// when an edge of it that is a letter or digit touches another letter or
// digit, or a '.', '-' or '_' between it and one (a host name, an address,
// "username-password"). An edge that is not a letter or digit joins no
// word, so that side is not checked.
func replaceWords(msg, secret string) string {
	if secret == "" {
		return msg
	}
	var b strings.Builder
	rest := msg
	for {
		i := strings.Index(rest, secret)
		if i < 0 {
			break
		}
		end := i + len(secret)
		if joinsBefore(rest[:i], secret) || joinsAfter(rest[end:], secret) {
			// Not this one; an occurrence may still start inside it.
			_, size := utf8.DecodeRuneInString(rest[i:])
			b.WriteString(rest[:i+size])
			rest = rest[i+size:]
			continue
		}
		b.WriteString(rest[:i])
		b.WriteString(Mask)
		rest = rest[end:]
	}
	if b.Len() == 0 {
		return msg
	}
	b.WriteString(rest)
	return b.String()
}

// joinsBefore reports whether secret, found right after before, continues
// a word that before ends with.
func joinsBefore(before, secret string) bool {
	first, _ := utf8.DecodeRuneInString(secret)
	if !wordRune(first) {
		return false
	}
	r, size := utf8.DecodeLastRuneInString(before)
	if wordRune(r) {
		return true
	}
	if strings.ContainsRune(".-_", r) {
		r, _ = utf8.DecodeLastRuneInString(before[:len(before)-size])
		return wordRune(r)
	}
	return false
}

// joinsAfter reports whether secret, found right before after, continues
// into a word that after starts with.
func joinsAfter(after, secret string) bool {
	last, _ := utf8.DecodeLastRuneInString(secret)
	if !wordRune(last) {
		return false
	}
	r, size := utf8.DecodeRuneInString(after)
	if wordRune(r) {
		return true
	}
	if strings.ContainsRune(".-_", r) {
		r, _ = utf8.DecodeRuneInString(after[size:])
		return wordRune(r)
	}
	return false
}

func wordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
