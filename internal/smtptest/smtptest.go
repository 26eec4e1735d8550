// Package smtptest runs a real SMTP server (emersion/go-smtp) inside a test,
// recording what it accepts and failing on command: a reply code for some
// recipients, temporary failures for the first tries, a connection dropped
// in the middle of DATA.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/mail"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is a message the server accepted.
type Message struct {
	From   string
	To     []string
	Header mail.Header
	Raw    []byte
}

// Server is an SMTP server listening on loopback.
type Server struct {
	Addr string

	// Rcpt, if set, answers RCPT TO: a non-nil *smtp.SMTPError is the reply.
	Rcpt func(to string) error
	// Data, if set, is called before a message is accepted, with the number
	// of the DATA command (1, 2, …) and the recipients; a non-nil error is
	// the reply. ErrDrop drops the connection instead, half way through the
	// message.
	Data func(n int, to []string) error
	// Discard counts messages without keeping them (benchmarks).
	Discard bool

	srv      *smtp.Server
	mu       sync.Mutex
	messages []Message
	datas    atomic.Int64
	accepted atomic.Int64
	sessions atomic.Int64
}

// ErrDrop makes Data drop the connection in the middle of the message.
var ErrDrop = errors.New("drop the connection")

// Reply returns an SMTP error reply.
func Reply(code int, enhanced smtp.EnhancedCode, message string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: message}
}

// Start starts a server that the test stops when it ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.sessions.Add(1)
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "smtptest.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.srv = srv
	s.Addr = ln.Addr().String()
	go srv.Serve(ln) //nolint:errcheck // returns when closed
	t.Cleanup(func() { srv.Close() })
	return s
}

// Port is the port the server listens on.
func (s *Server) Port() string {
	_, port, _ := net.SplitHostPort(s.Addr)
	return port
}

// Messages returns the accepted messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Accepted is the number of messages accepted.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// Sessions is the number of SMTP sessions (connections) opened.
func (s *Server) Sessions() int { return int(s.sessions.Load()) }

// PerRecipient counts accepted messages by recipient.
func (s *Server) PerRecipient() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, m := range s.messages {
		for _, to := range m.To {
			out[to]++
		}
	}
	return out
}

type session struct {
	s    *Server
	conn *smtp.Conn
	from string
	to   []string
}

func (ss *session) AuthPlain(username, password string) error { return nil }

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if ss.s.Rcpt != nil {
		if err := ss.s.Rcpt(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	n := int(ss.s.datas.Add(1))
	if ss.s.Data != nil {
		if err := ss.s.Data(n, ss.to); errors.Is(err, ErrDrop) {
			_, _ = io.CopyN(io.Discard, r, 64)
			ss.conn.Conn().Close()
			return err
		} else if err != nil {
			_, _ = io.Copy(io.Discard, r)
			return err
		}
	}
	if ss.s.Discard {
		_, err := io.Copy(io.Discard, r)
		if err == nil {
			ss.s.accepted.Add(1)
		}
		return err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Reply(554, smtp.EnhancedCode{5, 6, 0}, "unparsable message: "+err.Error())
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, Message{From: ss.from, To: append([]string(nil), ss.to...), Header: msg.Header, Raw: raw})
	ss.s.mu.Unlock()
	ss.s.accepted.Add(1)
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }
