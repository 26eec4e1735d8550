package smtptest_test

import (
	"net/smtp"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/smtptest"
)

// TestLatencyDelaysEachReply: a relay that is not on loopback answers MAIL,
// RCPT and the message each after Latency, so one message costs at least
// three times it.
func TestLatencyDelaysEachReply(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	s.Latency = 40 * time.Millisecond
	start := time.Now()
	if err := smtp.SendMail("127.0.0.1:"+s.Port(), nil, "a@vendor.test", []string{"b@acme.test"}, []byte("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 3*s.Latency {
		t.Errorf("one message took %s, want at least 3 × %s", took, s.Latency)
	}
	if s.Accepted() != 1 {
		t.Errorf("accepted %d messages, want 1", s.Accepted())
	}
}
