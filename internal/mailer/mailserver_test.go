package mailer_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/heraldhq/herald/internal/mailer"
)

// mailServer is a real SMTP server (go-smtp) whose answer to MAIL FROM the
// test chooses: the replies a relay gives herald's sender, which the
// shared test server does not make.
type mailServer struct {
	// mail answers MAIL FROM with the number of the command (1, 2, …); a
	// non-nil *smtp.SMTPError (smtptest.Reply) is the reply.
	mail func(n int, from string) error

	mails, sessions, accepted atomic.Int64
	mu                        sync.Mutex
	froms                     []string
}

// firstOnly answers the first MAIL FROM with reply, and takes the others.
func firstOnly(reply error) func(int, string) error {
	return func(n int, _ string) error {
		if n == 1 {
			return reply
		}
		return nil
	}
}

// startMailServer starts a mailServer answering MAIL FROM with mail, and a
// sender for it with one connection.
func startMailServer(t *testing.T, mail func(n int, from string) error) (*mailer.SMTP, *mailServer) {
	t.Helper()
	ms := &mailServer{mail: mail}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		ms.sessions.Add(1)
		return &mailSession{s: ms}, nil
	}))
	srv.Domain = "mailserver.localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // returns when closed
	t.Cleanup(func() { srv.Close() })

	sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		TLS: "none", Connections: 1, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	return sender, ms
}

// Froms are the addresses of every MAIL FROM, in order.
func (ms *mailServer) Froms() []string {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]string(nil), ms.froms...)
}

type mailSession struct{ s *mailServer }

func (ss *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	n := int(ss.s.mails.Add(1))
	ss.s.mu.Lock()
	ss.s.froms = append(ss.s.froms, from)
	ss.s.mu.Unlock()
	if ss.s.mail != nil {
		return ss.s.mail(n, from)
	}
	return nil
}

func (ss *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }

func (ss *mailSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	ss.s.accepted.Add(1)
	return nil
}

func (ss *mailSession) Reset()        {}
func (ss *mailSession) Logout() error { return nil }
