// Package markdown owns the Markdown herald takes from staff and release
// feeds (release notes, broadcast bodies): how large it may be, which text
// is refused because goldmark would take seconds on it, and how it becomes
// HTML, once per text however many recipients it goes to.
//
// Rendering cannot be cancelled, so Check runs first, in linear time, on
// everything that is stored; Render and the Cache never convert text that
// Check refuses.
package markdown

import (
	"bytes"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/heraldhq/herald/internal/fault"
)

// MaxBytes bounds release notes, broadcast bodies and feed entries.
const MaxBytes = 64 << 10

// Validate checks the Markdown of field: a too-large error over MaxBytes,
// an invalid one when Check refuses it.
func Validate(field, src string) error {
	if len(src) > MaxBytes {
		return fault.TooLarge(field, "is %d bytes; at most %d (%d KiB) are accepted", len(src), MaxBytes, MaxBytes>>10)
	}
	if err := Check(src); err != nil {
		return fault.Invalid(field, "%v", err)
	}
	return nil
}

// converter is goldmark without its unsafe option: raw HTML in the text is
// dropped and unsafe link schemes (javascript:, …) removed.
var converter = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.Table))

// Render converts src to HTML. Text over MaxBytes or refused by Check is
// not converted but shown as escaped plain text: it can only be a row
// stored before these checks, or a template preview, and neither may stall
// herald.
func Render(src string) (string, error) {
	if len(src) > MaxBytes || Check(src) != nil {
		return plain(src), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/2)
	if err := converter.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// plain shows src as preformatted text.
func plain(src string) string {
	var b strings.Builder
	b.WriteString(`<div style="white-space:pre-wrap">`)
	b.WriteString(html.EscapeString(src))
	b.WriteString("</div>\n")
	return b.String()
}
