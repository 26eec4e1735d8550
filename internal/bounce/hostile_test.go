package bounce_test

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/bounce"
)

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// TestParseHostileInput feeds messages built to cost: deep nesting, many
// parts, huge headers, a message over the size cap. Each is read quickly,
// becomes no event, and says why.
func TestParseHostileInput(t *testing.T) {
	t.Parallel()
	f := newFixtures(t)
	head := "From: MAILER-DAEMON@x.test\r\nTo: " + f.rp + "\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
	plain := "From: someone@x.test\r\nTo: " + f.rp + "\r\nSubject: hello\r\n"

	nested := func(depth int) string {
		var b strings.Builder
		b.WriteString(head)
		for i := range depth {
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
		}
		b.WriteString("Content-Type: text/plain\r\n\r\nx\r\n")
		for i := depth - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		}
		return b.String()
	}
	manyParts := func(n int) string {
		var b strings.Builder
		b.WriteString(head + "Content-Type: multipart/report; report-type=delivery-status; boundary=\"p\"\r\n\r\n")
		for range n {
			b.WriteString("--p\r\nContent-Type: text/plain\r\n\r\nx\r\n")
		}
		b.WriteString("--p--\r\n")
		return b.String()
	}
	for _, tc := range []struct {
		name, raw, reason string
	}{
		{"DeepNesting", nested(10000), "the message's MIME structure cannot be read: multiparts nested more than 8 deep"},
		{"ManyParts", manyParts(100000), "the message's MIME structure cannot be read: more than 64 parts"},
		{"HugeHeader", plain + "X-Junk: " + strings.Repeat("a", bounce.MaxMessageBytes-200) + "\r\n\r\nbody", "not a delivery status notification"},
		{"ManyHeaderLines", plain + strings.Repeat("X-J: a\r\n", 500000) + "\r\n", "not a delivery status notification"},
		{"TooLarge", head + "\r\n" + strings.Repeat("a", bounce.MaxMessageBytes), "the message is larger than"},
		{"BadBase64", head + "Content-Type: multipart/report; report-type=delivery-status; boundary=\"p\"\r\n\r\n--p\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n--p--\r\n", "the message's MIME structure cannot be read: a base64 part"},
		{"NoHeader", "", "the message cannot be read"},
		{"ManyRecipientBlocks", head + "Content-Type: multipart/report; report-type=delivery-status; boundary=\"p\"\r\n\r\n--p\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\n" +
			strings.Repeat("Final-Recipient: rfc822; a@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n", 20000) + "--p--\r\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			got := bounce.Parse([]byte(tc.raw), []string{f.rp}, f.refs)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Parse took %v", took)
			}
			if tc.reason == "" {
				// The blocks past the cap are not read: at most 100 events.
				if len(got.Events) != 100 {
					t.Errorf("%d events, want the first 100 recipients' only", len(got.Events))
				}
				return
			}
			if len(got.Events) != 0 || !strings.HasPrefix(got.Reason, tc.reason) {
				t.Errorf("Parse = %d events, reason %q; want none, %q…", len(got.Events), got.Reason, tc.reason)
			}
			if len(got.Reason) > 500 {
				t.Errorf("the reason echoes %d bytes", len(got.Reason))
			}
		})
	}
}
