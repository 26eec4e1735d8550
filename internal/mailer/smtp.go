package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
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
		return SMTPConfig{}, fmt.Errorf("not a URL: %v", err)
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

// SMTP sends through a pool of persistent connections: each message waits
// for a free connection, and a connection stays open across messages until
// it fails, when it is dialled again for the next one.
type SMTP struct {
	addr  string
	slots chan *conn
	dkim  *gomail.DKIMSigner
}

type conn struct {
	client    *gomail.Client
	connected bool
}

// NewSMTP returns a sender for cfg. It does not connect until the first send.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Connections < 1 {
		cfg.Connections = 1
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	opts := []gomail.Option{
		gomail.WithTimeout(cfg.Timeout),
		// A NOOP before every message and a RSET after it would double
		// the round trips; a broken connection shows up on MAIL FROM
		// instead, where Send redials and tries once more.
		gomail.WithoutNoop(),
		gomail.WithoutRset(),
	}
	switch cfg.TLS {
	case "starttls":
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.TLSMandatory))
	case "tls":
		opts = append(opts, gomail.WithSSLPort(false))
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
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
	s := &SMTP{addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), slots: make(chan *conn, cfg.Connections), dkim: cfg.DKIM}
	for range cfg.Connections {
		c, err := gomail.NewClient(cfg.Host, opts...)
		if err != nil {
			return nil, fmt.Errorf("smtp client: %w", err)
		}
		s.slots <- &conn{client: c}
	}
	return s, nil
}

// Send sends m over a pooled connection.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := build(m, s.dkim)
	if err != nil {
		return err
	}
	var c *conn
	select {
	case c = <-s.slots:
	case <-ctx.Done():
		return &Error{Temporary: true, Err: ctx.Err()}
	}
	defer func() { s.slots <- c }()

	for try := 0; ; try++ {
		if !c.connected {
			if err := c.client.DialWithContext(ctx); err != nil {
				return &Error{Temporary: true, Err: fmt.Errorf("connect to %s: %w", s.addr, err)}
			}
			c.connected = true
		}
		err := c.client.Send(msg)
		if err == nil {
			return nil
		}
		e, broken, untouched := classifySend(err)
		if broken {
			_ = c.client.Close()
			c.connected = false
			// A connection that broke before the message was handed over
			// (typically one the server closed while it was idle) is
			// dialled again at once: nothing was delivered.
			if untouched && try == 0 {
				continue
			}
		}
		return e
	}
}

// classifySend reads go-mail's error: what kind of failure, whether the
// connection is broken, and whether the server can have seen any of the
// message.
func classifySend(err error) (e *Error, broken, untouched bool) {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return &Error{Temporary: true, Err: err}, true, false
	}
	code := se.ErrorCode()
	beforeContent := false
	switch se.Reason {
	case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData:
		beforeContent = true
	}
	switch {
	case code >= 500:
		return &Error{Code: code, RecipientRejected: se.Reason == gomail.ErrSMTPRcptTo, Err: err}, false, false
	case code == 421:
		// 421 is the server closing the connection (RFC 5321 4.2.2),
		// typically after an idle timeout: the reply sat in the socket
		// until MAIL FROM read it.
		return &Error{Temporary: true, Code: code, Err: err}, true, beforeContent
	case code >= 400:
		return &Error{Temporary: true, Code: code, Err: err}, false, false
	}
	if beforeContent {
		return &Error{Temporary: true, Err: err}, true, true
	}
	// Broken during or after the content: the server may have the
	// message. Retrying later is the only way not to lose it.
	return &Error{Temporary: true, Err: err}, true, false
}

// Close closes every connection, waiting for messages in flight. The
// closed connections go back to the pool, so that closing again returns at
// once instead of waiting forever for them.
func (s *SMTP) Close() error {
	var errs []error
	conns := make([]*conn, 0, cap(s.slots))
	for range cap(s.slots) {
		c := <-s.slots
		conns = append(conns, c)
		if c.connected {
			c.connected = false
			if err := c.client.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, c := range conns {
		s.slots <- c
	}
	return errors.Join(errs...)
}
