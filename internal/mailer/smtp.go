package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/heraldhq/herald/internal/redact"
)

// SMTPConfig says how to reach the SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS is "starttls" (required, the default), "tls" (implicit TLS) or
	// "none".
	TLS string
	// Connections is how many connections are kept open.
	Connections int
	// Timeout bounds each SMTP command.
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests use it to trust their CA).
	TLSConfig *tls.Config
	// DKIM, if set, signs every message.
	DKIM *gomail.DKIMSigner
}

// ParseSMTPURL reads smtp://user:pass@host:port?tls=starttls|tls|none.
// The port defaults to 587 for starttls, 465 for tls and 25 for none.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes raw, password and all.
		return SMTPConfig{}, fmt.Errorf("%q is not a URL", redact.URL(raw))
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return SMTPConfig{}, fmt.Errorf("unsupported scheme %q (use smtp://)", u.Scheme)
	}
	cfg := SMTPConfig{Host: u.Hostname(), TLS: u.Query().Get("tls")}
	if cfg.Host == "" {
		return SMTPConfig{}, errors.New("no host")
	}
	if cfg.TLS == "" {
		cfg.TLS = "starttls"
		if u.Scheme == "smtps" {
			cfg.TLS = "tls"
		}
	}
	defaultPort := map[string]int{"starttls": 587, "tls": 465, "none": 25}
	port, ok := defaultPort[cfg.TLS]
	if !ok {
		return SMTPConfig{}, fmt.Errorf("tls=%q is not starttls, tls or none", cfg.TLS)
	}
	cfg.Port = port
	if p := u.Port(); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil || cfg.Port < 1 || cfg.Port > 65535 {
			return SMTPConfig{}, fmt.Errorf("port %q is not a port number", p)
		}
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	for key := range u.Query() {
		if key != "tls" {
			return SMTPConfig{}, fmt.Errorf("unknown parameter %q (only tls is known)", key)
		}
	}
	return cfg, nil
}

// SMTP sends through persistent connections, each served by one sender
// goroutine that takes the next message handed over (Send builds it on the
// caller's goroutine first): a connection stays open across messages until
// it fails, when it is dialled again for the next one. It speaks the
// transaction itself (MAIL, RCPT, DATA) over go-mail's SMTP client, so that
// it knows which step each reply answers, and it resets the transaction
// after any refusal, so that a refused message never leaves the connection
// in a state that fails the next one.
type SMTP struct {
	addr    string
	host    string
	auth    bool // a user name is configured
	timeout time.Duration
	conns   []*conn
	dkim    *gomail.DKIMSigner
	// jobs hands a message (or a probe) to the first sender goroutine
	// free; unbuffered, so a message is handed over only when a
	// connection takes it.
	jobs chan job

	// mu guards the senders' life: started at the first use, stopped by
	// Close (which waits for them while holding it), started again by a
	// use after Close.
	mu      sync.Mutex
	running bool
	quit    chan struct{}
	senders sync.WaitGroup
	closing []error
}

// job is one thing for a sender goroutine to do on its connection.
type job struct {
	ctx  context.Context
	run  func(ctx context.Context, c *conn) error
	done chan error
}

// conn is one pooled connection; client is nil until it is dialled.
type conn struct {
	dialer *gomail.Client
	client *smtp.Client
}

// drop closes c's connection, which the next use dials again.
func (c *conn) drop() {
	_ = c.client.Close()
	c.client = nil
}

// NewSMTP returns a sender for cfg. It does not connect until the first
// send or probe.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Connections < 1 {
		cfg.Connections = 1
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout)}
	switch cfg.TLS {
	case "starttls":
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.TLSMandatory), gomail.WithDialContextFunc(dialRecorded))
	case "tls":
		// Not dialRecorded: go-mail counts a connection from its caller's
		// dial function as unencrypted, and its AUTH discovery then drops
		// PLAIN and LOGIN. A session that fails after connecting leaves
		// its socket here to the runtime's finalizer.
		opts = append(opts, gomail.WithSSLPort(false))
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS), gomail.WithDialContextFunc(dialRecorded))
	default:
		return nil, fmt.Errorf("smtp tls %q is not starttls, tls or none", cfg.TLS)
	}
	// After the TLS options: they replace go-mail's default port 25 with
	// 587 or 465, even when 25 is the port asked for.
	opts = append(opts, gomail.WithPort(cfg.Port))
	if cfg.TLSConfig != nil {
		// STARTTLS verifies the certificate against ServerName only, where
		// implicit TLS falls back on the host dialled.
		tc := cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = cfg.Host
		}
		opts = append(opts, gomail.WithTLSConfig(tc))
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	s := &SMTP{addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), host: cfg.Host, auth: cfg.Username != "",
		timeout: cfg.Timeout, dkim: cfg.DKIM, jobs: make(chan job)}
	for range cfg.Connections {
		d, err := gomail.NewClient(cfg.Host, opts...)
		if err != nil {
			return nil, fmt.Errorf("smtp client: %w", err)
		}
		s.conns = append(s.conns, &conn{dialer: d})
	}
	return s, nil
}

// start starts the sender goroutines unless they run, and returns the
// channel that says they were stopped.
func (s *SMTP) start() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return s.quit
	}
	s.running, s.quit, s.closing = true, make(chan struct{}), make([]error, len(s.conns))
	for i, c := range s.conns {
		s.senders.Go(func() { s.serve(c, i, s.quit) })
	}
	return s.quit
}

// serve is the sender goroutine of connection c: it runs the jobs it
// takes until quit, then says QUIT.
func (s *SMTP) serve(c *conn, i int, quit chan struct{}) {
	for {
		select {
		case j := <-s.jobs:
			j.done <- j.run(j.ctx, c)
		case <-quit:
			s.closing[i] = s.quitConn(c)
			return
		}
	}
}

// do hands run to a sender goroutine and returns its result. A caller
// whose ctx ends before a connection takes it gets a temporary error.
func (s *SMTP) do(ctx context.Context, run func(ctx context.Context, c *conn) error) error {
	j := job{ctx: ctx, run: run, done: make(chan error, 1)}
	for {
		quit := s.start()
		select {
		case s.jobs <- j:
			return <-j.done
		case <-quit:
			// Closed meanwhile: the next use starts the senders again.
		case <-ctx.Done():
			return &Error{Temporary: true, Err: ctx.Err()}
		}
	}
}

// Send sends m over a pooled connection.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := build(m, s.dkim)
	if err != nil {
		return err
	}
	// The envelope, in the angle brackets MAIL FROM and RCPT TO take.
	from, err := msg.GetSender(false)
	if err != nil {
		return &Error{Err: fmt.Errorf("sender %q: %w", m.From, err)}
	}
	rcpts, err := msg.GetRecipients()
	if err != nil || len(rcpts) != 1 {
		return &Error{Err: fmt.Errorf("recipient %q: %v", m.To, err)}
	}
	to := rcpts[0]
	return s.do(ctx, func(ctx context.Context, c *conn) error { return s.deliver(ctx, c, from, to, msg) })
}

// deliver sends msg over connection c, dialling it if it is closed.
func (s *SMTP) deliver(ctx context.Context, c *conn, from, to string, msg *gomail.Msg) error {
	for try := 0; ; try++ {
		if err := s.connect(ctx, c); err != nil {
			return err
		}
		e, broken := s.transact(c.client, from, to, msg)
		if e == nil {
			return nil
		}
		if broken {
			c.drop()
			// A connection that broke before the message was handed over
			// (typically one the server closed while it was idle, with or
			// without a 421 saying so) is dialled again at once: nothing
			// was delivered. Not after a 421 that slows herald down:
			// dialling again would only ask again.
			if e.Stage == StageMail && try == 0 && closedIdle(e) {
				continue
			}
		}
		return e
	}
}

// dialedKey carries, in the context of one dial, the connections
// dialRecorded opened for it.
type dialedKey struct{}

// dialed are the connections one dial opened.
type dialed struct{ conns []net.Conn }

// dialRecorded dials as go-mail does by itself, and records the connection
// for connect to close: go-mail returns without closing it when the session
// fails after connecting (EHLO refused, STARTTLS missing or failed, no
// AUTH that herald may use).
func dialRecorded(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err == nil {
		if h, ok := ctx.Value(dialedKey{}).(*dialed); ok {
			h.conns = append(h.conns, nc)
		}
	}
	return nc, err
}

// connect opens c's session with the relay, unless it has one:
// connection, EHLO, TLS and AUTH. When the session fails, it closes the
// connections the dial opened (those dialRecorded saw), and classifies the
// failure.
func (s *SMTP) connect(ctx context.Context, c *conn) error {
	if c.client != nil {
		return nil
	}
	h := &dialed{}
	client, err := c.dialer.DialToSMTPClientWithContext(context.WithValue(ctx, dialedKey{}, h))
	if err != nil {
		for _, nc := range h.conns {
			_ = nc.Close()
		}
		return s.dialError(err)
	}
	c.client = client
	return nil
}

// transact runs one mail transaction on client. It reports a refusal
// classified, and whether the connection must be closed: after an I/O
// error, after a 421, or when the transaction could not be reset.
func (s *SMTP) transact(client *smtp.Client, from, to string, msg *gomail.Msg) (e *Error, broken bool) {
	if err := client.UpdateDeadline(s.timeout); err != nil {
		return &Error{Temporary: true, Stage: StageMail, Err: err}, true
	}
	if err := client.Mail(from); err != nil {
		return s.refused(client, StageMail, from, err)
	}
	if err := client.Rcpt(to); err != nil {
		return s.refused(client, StageRcpt, from, err)
	}
	w, err := client.Data()
	if err != nil {
		return s.refused(client, StageData, from, err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		// Broken in the middle of the message: the server cannot take it
		// as it is, and the connection cannot go on.
		return &Error{Temporary: true, Stage: StageMessage, Err: fmt.Errorf("send the message: %w", err)}, true
	}
	if err := w.Close(); err != nil {
		return s.refused(client, StageMessage, from, err)
	}
	return nil, false
}

// refused classifies an error at stage and puts the connection back in a
// state to start the next transaction: a reply resets the transaction
// (RSET), since some servers keep it open after refusing DATA or the
// message, and would answer the next MAIL FROM with 503; anything else
// (the connection broke) closes it. from is the envelope sender.
func (s *SMTP) refused(client *smtp.Client, stage Stage, from string, err error) (*Error, bool) {
	r, ok := replyOf(err)
	if !ok {
		// No reply: the connection broke. Broken once the message was
		// being handed over, the server may have it; only a retry later
		// can tell.
		return &Error{Temporary: true, Stage: stage, Err: err}, true
	}
	e := s.replyError(stage, r, from, err)
	if r.Code == 421 {
		return e, true // the server is closing the connection
	}
	if rerr := client.Reset(); rerr != nil {
		return e, true
	}
	return e, false
}

// Probe checks that the relay takes herald's connection, TLS, credentials
// and sender: it dials, says EHLO, negotiates TLS and authenticates as
// sending does, then says MAIL FROM with from's address and RSET. It uses
// a connection of the pool, which then stays open for the next message;
// one that is open already is asked for a NOOP first.
func (s *SMTP) Probe(ctx context.Context, from string) error {
	sender, err := envelopeFrom(from)
	if err != nil {
		return &Error{Err: fmt.Errorf("sender %q: %w", from, err)}
	}
	return s.do(ctx, func(ctx context.Context, c *conn) error { return s.probe(ctx, c, sender) })
}

// probe runs Probe on connection c.
func (s *SMTP) probe(ctx context.Context, c *conn, sender string) error {
	if c.client != nil && (c.client.UpdateDeadline(s.timeout) != nil || c.client.Noop() != nil) {
		c.drop()
	}
	if err := s.connect(ctx, c); err != nil {
		return err
	}
	if err := c.client.UpdateDeadline(s.timeout); err != nil {
		c.drop()
		return &Error{Temporary: true, Stage: StageMail, Err: err}
	}
	if err := c.client.Mail(sender); err != nil {
		e, broken := s.refused(c.client, StageMail, sender, err)
		if broken {
			c.drop()
		}
		return e
	}
	if err := c.client.Reset(); err != nil {
		// The relay took the sender, which is what the probe asks; a
		// connection that cannot be reset is closed, and the next message
		// dials its own.
		c.drop()
	}
	return nil
}

// envelopeFrom is the address of a "Name <address>" sender in the angle
// brackets MAIL FROM takes, found as Send finds it.
func envelopeFrom(from string) (string, error) {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return "", err
	}
	return msg.GetSender(false)
}

// dialError classifies a failure to connect. Whatever keeps herald from a
// session with the relay is the relay's failure, not any message's: a
// refused or unanswered connection, a TLS mode the relay does not speak, a
// 5xx to EHLO or AUTH. No message can pass until it works again (often
// once a setting is changed), so the send pauses instead of failing
// recipients. Only a 4xx (421 "too many connections") is a reply to wait
// out.
func (s *SMTP) dialError(err error) *Error {
	err = fmt.Errorf("connect to %s: %w", s.addr, err)
	if r, ok := replyOf(err); ok {
		return s.replyError(StageConnect, r, "", err)
	}
	return &Error{Temporary: true, Relay: true, Stage: StageConnect, Err: err, Advice: s.advice(StageConnect, Reply{}, "", err)}
}

// replyError classifies reply r at stage and, when it is the relay's
// failure, says which setting to change; from is the envelope sender.
func (s *SMTP) replyError(stage Stage, r Reply, from string, err error) *Error {
	e := classify(stage, r, err)
	if e.Relay {
		e.Advice = s.advice(stage, r, from, err)
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// advice says what to change when the relay refuses herald's connection,
// credentials or sender.
func (s *SMTP) advice(stage Stage, r Reply, from string, err error) string {
	var (
		dnsErr  *net.DNSError
		tlsErr  tls.RecordHeaderError
		certErr *tls.CertificateVerificationError
	)
	text := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("nothing accepts connections at %s: check the host and port of HERALD_SMTP_URL", s.addr)
	case isTimeout(err):
		return fmt.Sprintf("the relay at %s did not answer: check the host and port of HERALD_SMTP_URL, and its ?tls= "+
			"(tls=tls on port 465, which waits for TLS; starttls on 587)", s.addr)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the host %s does not resolve: check the host of HERALD_SMTP_URL", s.host)
	case strings.Contains(text, "does not support starttls"):
		return "the relay does not offer STARTTLS; for a local relay use ?tls=none in HERALD_SMTP_URL, " +
			"or ?tls=tls for a relay that speaks TLS from the first byte (port 465)"
	case errors.As(err, &tlsErr) || strings.Contains(text, "first record does not look like a tls handshake"):
		return fmt.Sprintf("the relay at %s does not speak TLS from the first byte; use ?tls=starttls (port 587) "+
			"or ?tls=none in HERALD_SMTP_URL", s.addr)
	case errors.As(err, &certErr) || strings.Contains(text, "x509"):
		return fmt.Sprintf("the relay's certificate is not valid for %s: the host of HERALD_SMTP_URL must be a name "+
			"its certificate is for", s.host)
	case r.Code == 530 && strings.Contains(text, "starttls"):
		return "the relay wants STARTTLS before anything else: use ?tls=starttls in HERALD_SMTP_URL"
	case r.Code == 530 && !s.auth:
		return "the relay wants herald to authenticate: put a user name and password in HERALD_SMTP_URL " +
			"(smtp://user:password@host, URL-encoding characters such as / + @ in them)"
	case r.Code == 535 || r.Code == 534 || r.Code == 530:
		return "the relay refused the user name or password of HERALD_SMTP_URL (URL-encode characters such as / + @ in them)"
	case stage == StageMail && r.Code >= 500:
		// Before the guess on "auth" below: a sender refusal often says
		// "not authorized" of the address, not of the credentials.
		return fmt.Sprintf("the relay refuses HERALD_FROM (%s) as the sender: verify its domain or address with the relay, "+
			"or use an address the account may send from", strings.Trim(from, "<>"))
	case strings.Contains(text, "auth"):
		return "the relay refused the user name or password of HERALD_SMTP_URL (URL-encode characters such as / + @ in them)"
	case strings.Contains(text, "unencrypted"):
		return "herald sends no password over an unencrypted connection: use ?tls=starttls or ?tls=tls in HERALD_SMTP_URL"
	}
	return "check HERALD_SMTP_URL (host, port, ?tls= and credentials)"
}

// Close closes every connection, waiting for the messages in flight, and
// stops the sender goroutines. Closing again returns at once; a message
// sent after Close dials again.
func (s *SMTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil
	}
	close(s.quit)
	s.senders.Wait()
	s.running = false
	return errors.Join(s.closing...)
}

// quitConn says QUIT on c's connection, if it is open, and closes it.
func (s *SMTP) quitConn(c *conn) error {
	if c.client == nil {
		return nil
	}
	defer func() { c.client = nil }()
	// A connection the relay dropped, or idle past its deadline, cannot
	// say QUIT; it is closed all the same.
	if err := c.client.UpdateDeadline(5 * time.Second); err != nil || c.client.Quit() != nil {
		if err := c.client.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
	}
	return nil
}
