package bounce

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/mailer"
)

// Format is the kind of report a message is.
type Format string

// The formats Parse reads.
const (
	// DSN is an RFC 3464 delivery status notification.
	DSN Format = "dsn"
	// ARF is an RFC 5965 feedback report (a complaint).
	ARF Format = "arf"
	// Text is a bounce written for people, quoting the original headers,
	// as qmail, older Exim and many others send them.
	Text Format = "text"
	// Unknown is a message Parse could not read as any of them.
	Unknown Format = "unknown"
)

// Bounds on what Parse reads of one message: hostile mail costs little.
const (
	// MaxMessageBytes is the largest message read (and accepted by the
	// inbound server).
	MaxMessageBytes = 5 << 20
	// maxParts is how many MIME parts are looked at, at any depth.
	maxParts = 64
	// maxDepth is how deeply multiparts may nest.
	maxDepth = 8
	// maxRecipients is how many recipient blocks of a DSN are read.
	maxRecipients = 100
)

// Result is what one message says, once verified.
type Result struct {
	Format Format
	// Events are what the message reports of deliveries herald can name
	// from a verified reference. Their Source is left to the caller.
	Events []Event
	// Reason says, when there are no events, why: nothing could be parsed,
	// no reference could be verified, or the report needs no event (a
	// positive DSN, a feedback type other than abuse). Such a message is
	// kept for staff to look at.
	Reason string
}

// Parse reads raw, a message sent to the bounce domain, with recipients
// its envelope recipients (RCPT TO), and returns the events it reports on
// deliveries refs can verify: by the signed return path the report was
// sent to (or which it quotes), else by the signed Message-ID of the
// returned message. Nothing unverified becomes an event. Parse reads at
// most MaxMessageBytes and a bounded number of parts, and never fails: a
// message it cannot read is a Result of format Unknown with the reason.
func Parse(raw []byte, recipients []string, refs *Refs) Result {
	if len(raw) > MaxMessageBytes {
		return Result{Format: Unknown, Reason: fmt.Sprintf("the message is larger than %d bytes", MaxMessageBytes)}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Result{Format: Unknown, Reason: "the message cannot be read: " + shorten(err.Error())}
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return Result{Format: Unknown, Reason: "the message cannot be read: " + shorten(err.Error())}
	}
	var w walker
	if err := w.walk(textproto.MIMEHeader(msg.Header), body, 0); err != nil {
		return Result{Format: Unknown, Reason: "the message's MIME structure cannot be read: " + shorten(err.Error())}
	}
	r := report{
		refs:       refs,
		recipients: recipients,
		id:         eventID(msg.Header, raw),
		original:   w.original,
	}
	var res Result
	switch {
	case w.reportType == "delivery-status" && w.status != nil:
		res = r.dsn(w.status)
	case w.reportType == "feedback-report" && w.feedback != nil:
		res = r.arf(w.feedback)
	case isTextBounce(msg.Header, w.text):
		res = r.text(w.text)
	default:
		return Result{Format: Unknown, Reason: "not a delivery status notification, a feedback report or a bounce"}
	}
	if len(res.Events) > 0 {
		res.Reason = ""
	}
	return res
}

// walker collects the parts of a message that reports are made of.
type walker struct {
	parts int
	// reportType is the report-type of the first multipart/report.
	reportType string
	// status and feedback are the first message/delivery-status and
	// message/feedback-report parts.
	status, feedback []byte
	// original is the returned message or its headers (the first
	// message/rfc822 or text/rfc822-headers part), when there is one.
	original []byte
	// text is the first text/plain part, or the body of a message that
	// is one; a text bounce quotes the original headers in it.
	text []byte
}

// walk visits a part with header h and (still encoded) body, descending
// into multiparts but not into returned messages, whose headers are all
// that is read of them.
func (w *walker) walk(h textproto.MIMEHeader, body []byte, depth int) error {
	w.parts++
	if w.parts > maxParts {
		return fmt.Errorf("more than %d parts", maxParts)
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct, params = "text/plain", nil // RFC 2045's default, also for a bad header
	}
	if strings.HasPrefix(ct, "multipart/") {
		if depth >= maxDepth {
			return fmt.Errorf("multiparts nested more than %d deep", maxDepth)
		}
		if ct == "multipart/report" && w.reportType == "" {
			w.reportType = strings.ToLower(params["report-type"])
		}
		if params["boundary"] == "" {
			return errors.New("a multipart without a boundary")
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			pb, err := io.ReadAll(p)
			if err != nil {
				return err
			}
			if err := w.walk(p.Header, pb, depth+1); err != nil {
				return err
			}
		}
	}
	decoded, err := decode(h.Get("Content-Transfer-Encoding"), body)
	if err != nil {
		return err
	}
	switch ct {
	case "message/delivery-status", "message/global-delivery-status":
		if w.status == nil {
			w.status = decoded
		}
	case "message/feedback-report":
		if w.feedback == nil {
			w.feedback = decoded
		}
	case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers", "message/rfc822-headers":
		if w.original == nil {
			w.original = decoded
		}
	case "text/plain":
		if w.text == nil {
			w.text = decoded
		}
	}
	return nil
}

// decode undoes a part's transfer encoding.
func decode(cte string, body []byte) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		out := make([]byte, base64.StdEncoding.DecodedLen(len(body)))
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil {
			return nil, fmt.Errorf("a base64 part: %w", err)
		}
		return out[:n], nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return nil, fmt.Errorf("a quoted-printable part: %w", err)
		}
		return out, nil
	}
	return body, nil
}

// report is what is known of one message while its events are made.
type report struct {
	refs       *Refs
	recipients []string
	id         string
	original   []byte
}

// eventID is the report's own Message-ID, else a SHA-256 of the message:
// the same report sent twice is one event.
func eventID(h mail.Header, raw []byte) string {
	if id := strings.TrimSpace(h.Get("Message-Id")); id != "" && len(id) <= 250 {
		return strings.Trim(id, "<>")
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// delivery finds the delivery a report is about from a verified
// reference: the envelope recipients first (the signed return path the
// report was sent to), then the return paths the report quotes (an ARF's
// Original-Mail-From, the returned message's Return-Path), then the
// returned message's Message-ID. It says why when none verifies.
func (r report) delivery(quoted ...string) (int64, string) {
	var tried []string
	for _, a := range append(append([]string{}, r.recipients...), quoted...) {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		d, err := r.refs.Delivery(strings.Trim(a, "<>"))
		if err == nil {
			return d, ""
		}
		tried = append(tried, err.Error())
	}
	if h := r.originalHeader(); h != nil {
		if rp := h.Get("Return-Path"); rp != "" {
			if d, err := r.refs.Delivery(strings.Trim(strings.TrimSpace(rp), "<>")); err == nil {
				return d, ""
			}
		}
		if id := h.Get("Message-Id"); id != "" {
			d, _, err := r.refs.FromMessageID(id)
			if err == nil {
				return d, ""
			}
			tried = append(tried, err.Error())
		}
	}
	for _, id := range quotedMessageIDs(r.original) {
		if d, _, err := r.refs.FromMessageID(id); err == nil {
			return d, ""
		}
	}
	if len(tried) == 0 {
		return 0, "no reference to a delivery: no return path and no returned Message-ID"
	}
	return 0, "no verified reference to a delivery: " + shorten(strings.Join(tried, "; "))
}

// originalHeader is the returned message's header, when it has one.
func (r report) originalHeader() mail.Header {
	if r.original == nil {
		return nil
	}
	m, err := mail.ReadMessage(bytes.NewReader(r.original))
	if err != nil {
		// text/rfc822-headers may end without the blank line.
		if m, err = mail.ReadMessage(io.MultiReader(bytes.NewReader(r.original), strings.NewReader("\r\n\r\n"))); err != nil {
			return nil
		}
	}
	return m.Header
}

// quotedMessageID finds Message-ID header lines quoted in text.
var quotedMessageID = regexp.MustCompile(`(?im)^[ \t>]*Message-ID:[ \t]*\n?[ \t]*<([^<>\s]{1,250})>`)

// quotedMessageIDs are the Message-IDs of the header lines quoted in b, at
// most ten.
func quotedMessageIDs(b []byte) []string {
	var ids []string
	for _, m := range quotedMessageID.FindAllSubmatch(b, 10) {
		ids = append(ids, string(m[1]))
	}
	return ids
}

// fields reads blocks of header fields separated by blank lines, as a
// delivery-status or feedback-report part holds them: at most max blocks.
func fields(b []byte, max int) []textproto.MIMEHeader {
	tr := textproto.NewReader(bufioReader(b))
	var blocks []textproto.MIMEHeader
	for len(blocks) < max {
		h, err := tr.ReadMIMEHeader()
		if len(h) > 0 {
			blocks = append(blocks, h)
		}
		if err != nil {
			break
		}
	}
	return blocks
}

// enhanced is an RFC 3463 status code.
var enhanced = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)

// CodeIn returns the first RFC 3463 status code in s ("550 5.1.1 user
// unknown" gives "5.1.1"), or "".
func CodeIn(s string) string { return enhanced.FindString(s) }

// statusCode returns the status code at the start of a Status field
// ("5.1.1", or "5.1.1 (bad destination mailbox)"), or "".
func statusCode(s string) string {
	s = strings.TrimSpace(s)
	if m := enhanced.FindStringIndex(s); m != nil && m[0] == 0 {
		return s[:m[1]]
	}
	return ""
}

// typed drops the type of a typed field ("rfc822; ann@acme.test", "smtp;
// 550 …").
func typed(s string) string {
	if _, v, ok := strings.Cut(s, ";"); ok {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(s)
}

// address returns a typed address field's address, lower case, when it is
// an rfc822 one.
func address(s string) string {
	t, v, ok := strings.Cut(s, ";")
	if !ok || !strings.EqualFold(strings.TrimSpace(t), "rfc822") {
		return ""
	}
	return strings.ToLower(strings.Trim(strings.TrimSpace(v), "<>"))
}

// Diagnostic bounds a remote server's or a sending service's words to
// MaxDiagnostic bytes of printable UTF-8 on one line: what an Event
// carries, however it came.
func Diagnostic(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return -1
		case r < ' ' || r == 0x7f:
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= MaxDiagnostic {
		return s
	}
	cut := MaxDiagnostic
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// date reads a report's date field; zero when it has none or a bad one.
func date(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := mail.ParseDate(strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// failure classifies a failed delivery by its status class: 5 is for
// good, 4 may pass. Mailbox uses the same classification as SMTP replies.
func failure(status, diag string) (Kind, bool) {
	if strings.HasPrefix(status, "4.") {
		return Soft, false
	}
	return Hard, mailer.MailboxGone(status, diag)
}

// indexed makes one report's event ids unique per recipient when it has
// several.
func indexed(id string, i, n int) string {
	if n <= 1 {
		return id
	}
	return id + "#" + strconv.Itoa(i+1)
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
