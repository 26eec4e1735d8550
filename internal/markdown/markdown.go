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
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/heraldhq/herald/internal/fault"
)

// MaxBytes bounds release notes, broadcast bodies and feed entries.
const MaxBytes = 64 << 10

// MaxHTML bounds the HTML of one text. Check keeps the HTML of what it
// accepts to some hundreds of KiB; this is the last guard, against a
// blow-up Check does not know, that no text held in memory for every
// recipient, and in the render cache, is larger.
const MaxHTML = 4 << 20

// Validate checks the Markdown of field: a too-large error over MaxBytes,
// an invalid one when Check refuses it or its HTML would be over MaxHTML.
// It renders the text to know: Check has made that quick, and it is
// rendered once per text anyway.
func Validate(field, src string) error {
	return validate(field, src, MaxHTML)
}

func validate(field, src string, maxHTML int) error {
	if len(src) > MaxBytes {
		return fault.TooLarge(field, "is %d bytes; at most %d (%d KiB) are accepted", len(src), MaxBytes, MaxBytes>>10)
	}
	if err := Check(src); err != nil {
		return fault.Invalid(field, "%v", err)
	}
	if _, err := convert(src, maxHTML); errors.Is(err, errTooMuchHTML) {
		return fault.Invalid(field, "renders to more than %d MiB of HTML; send a shorter text", maxHTML>>20)
	} else if err != nil {
		return fmt.Errorf("render %s: %w", field, err)
	}
	return nil
}

// converter is goldmark without its unsafe option: raw HTML in the text is
// dropped and unsafe link schemes (javascript:, …) removed.
var converter = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.Table))

// Render converts src to HTML. Text over MaxBytes or refused by Check is
// not converted but shown as escaped plain text: it can only be a row
// stored before these checks, or a template preview, and neither may stall
// herald. Text whose HTML would be over MaxHTML is shown so too.
func Render(src string) (string, error) {
	return render(src, MaxHTML)
}

func render(src string, maxHTML int) (string, error) {
	if len(src) > MaxBytes || Check(src) != nil {
		return plain(src), nil
	}
	out, err := convert(src, maxHTML)
	if errors.Is(err, errTooMuchHTML) {
		return plain(src), nil
	}
	return out, err
}

var errTooMuchHTML = errors.New("markdown: HTML over the limit")

// convert converts src to HTML, failing with errTooMuchHTML once the HTML
// is over maxHTML bytes: goldmark writes nothing more from then on.
func convert(src string, maxHTML int) (string, error) {
	buf := limitedBuffer{limit: maxHTML}
	buf.Grow(min(maxHTML, len(src)+len(src)/2))
	if err := converter.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// limitedBuffer is a bytes.Buffer refusing writes past its limit.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.limit {
		return 0, errTooMuchHTML
	}
	return b.Buffer.Write(p)
}

// plain shows src as preformatted text.
func plain(src string) string {
	var b strings.Builder
	b.WriteString(`<div style="white-space:pre-wrap">`)
	b.WriteString(html.EscapeString(src))
	b.WriteString("</div>\n")
	return b.String()
}
