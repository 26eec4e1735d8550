// Package smtptest runs a real SMTP server (emersion/go-smtp) inside a test,
// recording what it accepts and failing on command: a reply code for some
// recipients, temporary failures for the first tries, a connection dropped
// in the middle of DATA. Options add STARTTLS or implicit TLS, required
// AUTH, and idle timeouts.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is a message the server accepted.
type Message struct {
	From   string
	To     []string
	Header mail.Header
	Raw    []byte
	// User is who authenticated for the message, "" without AUTH.
	User string
	// TLS is set when the message came over an encrypted connection.
	TLS bool
}

// Option changes how a server started by Start behaves.
type Option func(*options)

type options struct {
	startTLS    *tls.Config
	implicitTLS *tls.Config
	username    string
	password    string
	idleTimeout time.Duration
}

// WithSTARTTLS offers STARTTLS with cfg.
func WithSTARTTLS(cfg *tls.Config) Option {
	return func(o *options) { o.startTLS = cfg }
}

// WithImplicitTLS serves TLS from the first byte (smtps, port 465 style)
// with cfg.
func WithImplicitTLS(cfg *tls.Config) Option {
	return func(o *options) { o.implicitTLS = cfg }
}

// WithAuth offers AUTH PLAIN and refuses MAIL FROM until a client has
// authenticated as username with password; a wrong password gets 535.
func WithAuth(username, password string) Option {
	return func(o *options) { o.username, o.password = username, password }
}

// WithIdleTimeout closes a connection that sent nothing for d, with a 421
// reply first, as real servers do.
func WithIdleTimeout(d time.Duration) Option {
	return func(o *options) { o.idleTimeout = d }
}

// Server is an SMTP server listening on loopback.
type Server struct {
	Addr string

	// Rcpt, if set, answers RCPT TO: a non-nil *smtp.SMTPError is the reply.
	// Rcpt, Data and Connect are read by every session without a lock:
	// set them before the mail they are for is sent, and do not set them
	// back while a session may be running (a test's last hook simply stays
	// until the server closes).
	Rcpt func(to string) error
	// Data, if set, is called before a message is accepted, with the number
	// of the DATA command (1, 2, …) and the recipients; a non-nil error is
	// the reply. ErrDrop drops the connection instead, half way through the
	// message.
	Data func(n int, to []string) error
	// Connect, if set, is asked at each EHLO of a new connection: a non-nil
	// *smtp.SMTPError refuses the session with it (a relay that refuses
	// herald's address, say).
	Connect func() error
	// Discard counts messages without keeping them (benchmarks).
	Discard bool
	// Latency, if set, delays the reply to each MAIL, RCPT and message
	// (the end of DATA): a relay that is not on loopback (benchmarks).
	Latency time.Duration

	srv      *smtp.Server
	opts     options
	mu       sync.Mutex
	messages []Message
	open     map[*session]bool
	authFail int
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
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{open: map[*session]bool{}}
	for _, o := range opts {
		o(&s.opts)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		if s.Connect != nil {
			if err := s.Connect(); err != nil {
				return nil, err
			}
		}
		s.sessions.Add(1)
		ss := &session{s: s, conn: c}
		s.mu.Lock()
		s.open[ss] = true
		s.mu.Unlock()
		return ss, nil
	}))
	srv.Domain = "smtptest.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	if s.opts.idleTimeout > 0 {
		srv.ReadTimeout = s.opts.idleTimeout
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case s.opts.implicitTLS != nil:
		srv.TLSConfig = s.opts.implicitTLS
		ln = tls.NewListener(ln, s.opts.implicitTLS)
	case s.opts.startTLS != nil:
		srv.TLSConfig = s.opts.startTLS
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

// Sessions is the number of SMTP sessions (connections) opened. A
// connection that says STARTTLS counts twice: go-smtp starts a new session
// after it.
func (s *Server) Sessions() int { return int(s.sessions.Load()) }

// Open is the number of sessions open now. STARTTLS ends the session
// before it and starts another on the same connection.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

// AuthFailures is the number of AUTH attempts refused.
func (s *Server) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFail
}

// CloseConnections closes every open connection without a word, as a server
// that drops idle clients or restarts does.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	var conns []net.Conn
	for ss := range s.open {
		conns = append(conns, ss.conn.Conn())
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

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
	user string
	from string
	to   []string
}

// AuthMechanisms offers PLAIN only when the server requires AUTH, so that
// servers without WithAuth advertise no AUTH at all.
func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if ss.s.opts.username == "" || mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.username || password != ss.s.opts.password {
			ss.s.mu.Lock()
			ss.s.authFail++
			ss.s.mu.Unlock()
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.s.wait()
	if ss.s.opts.username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	ss.s.wait()
	if ss.s.Rcpt != nil {
		if err := ss.s.Rcpt(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	defer ss.s.wait()
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
	_, isTLS := ss.conn.TLSConnectionState()
	ss.s.messages = append(ss.s.messages, Message{From: ss.from, To: append([]string(nil), ss.to...), Header: msg.Header, Raw: raw, User: ss.user, TLS: isTLS})
	ss.s.mu.Unlock()
	ss.s.accepted.Add(1)
	return nil
}

// wait is the server's Latency.
func (s *Server) wait() {
	if s.Latency > 0 {
		time.Sleep(s.Latency)
	}
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error {
	ss.s.mu.Lock()
	delete(ss.s.open, ss)
	ss.s.mu.Unlock()
	return nil
}

// Parts returns the plain-text and HTML parts of a multipart/alternative
// message, decoded (quoted-printable or base64).
func (m Message) Parts() (text, html string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return "", "", err
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		return "", "", fmt.Errorf("Content-Type %q, want multipart/alternative", msg.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", "", err
		}
		// multipart decodes quoted-printable by itself, not base64.
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		body, err := io.ReadAll(r)
		if err != nil {
			return "", "", err
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(body)
		case "text/html":
			html = string(body)
		}
	}
	if text == "" || html == "" {
		return "", "", fmt.Errorf("message lacks a part: text %d bytes, html %d bytes", len(text), len(html))
	}
	return text, html, nil
}

// MustParts is Parts for a test: it fails the test when the message is not
// a text and an HTML part.
func (m Message) MustParts(t testing.TB) (text, html string) {
	t.Helper()
	text, html, err := m.Parts()
	if err != nil {
		t.Fatalf("message to %v: %v", m.To, err)
	}
	return text, html
}
