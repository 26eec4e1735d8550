package mailer_test

import (
	"testing"

	"github.com/heraldhq/herald/internal/mailer"
)

func TestMailboxGone(t *testing.T) {
	for _, tc := range []struct {
		enhanced, text string
		want           bool
	}{
		{"5.1.1", "user unknown", true},
		{"5.2.1", "", true},
		{"5.1.10", "null MX", true},
		{"5.7.1", "message refused as spam", false},
		{"5.2.2", "mailbox full", false},
		{"5.1.0", "sender address rejected", false},
		{"", "550 No such user here", true},
		{"", "The email account that you tried to reach does not exist", true},
		{"", "Service unavailable; client host blocked", false},
	} {
		if got := mailer.MailboxGone(tc.enhanced, tc.text); got != tc.want {
			t.Errorf("MailboxGone(%q, %q) = %v, want %v", tc.enhanced, tc.text, got, tc.want)
		}
	}
}
