package inbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"

	"github.com/heraldhq/herald/internal/bounce"
	"github.com/heraldhq/herald/internal/metrics"
)

// Bounds of the server: a hostile client costs little.
const (
	// MaxRecipients is how many RCPT a message may have; a report goes
	// to one address.
	MaxRecipients = 20
	// DefaultTimeout bounds each read and write of a connection.
	DefaultTimeout = time.Minute
	// DefaultMaxConnections caps the connections served at once.
	DefaultMaxConnections = 50
	// handleTimeout bounds the work done for one message.
	handleTimeout = 30 * time.Second
)

// Config tunes the server.
type Config struct {
	// Domain is the bounce domain: the only one whose addresses the
	// server takes mail for.
	Domain string
	// MaxConnections caps the connections served at once; more wait to
	// be accepted.
	MaxConnections int
	// Timeout bounds each read and write.
	Timeout time.Duration
}

// Deps are what the server records into.
type Deps struct {
	Refs *bounce.Refs
	// Sink records verified events. Without one, a message with events is
	// kept as not applied.
	Sink    bounce.Sink
	Kept    *bounce.KeptStore
	Metrics *metrics.Metrics // optional
	Logger  *slog.Logger
}

// Server is the inbound SMTP server.
type Server struct {
	cfg  Config
	deps Deps
	smtp *smtp.Server
}

// New returns a server for cfg.Domain.
func New(cfg Config, deps Deps) (*Server, error) {
	if cfg.Domain == "" {
		return nil, errors.New("inbound: no bounce domain (HERALD_BOUNCE_DOMAIN)")
	}
	if deps.Refs == nil || deps.Kept == nil || deps.Logger == nil {
		return nil, errors.New("inbound: Refs, Kept and Logger are required")
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.Domain = strings.ToLower(cfg.Domain)
	s := &Server{cfg: cfg, deps: deps}
	srv := smtp.NewServer(s)
	srv.Domain = cfg.Domain
	srv.MaxMessageBytes = bounce.MaxMessageBytes
	srv.MaxRecipients = MaxRecipients
	srv.MaxLineLength = 2000 // RFC 5321 says 1000; some senders go over
	srv.ReadTimeout, srv.WriteTimeout = cfg.Timeout, cfg.Timeout
	srv.ErrorLog = errorLog{deps.Logger}
	s.smtp = srv
	return s, nil
}

// Serve serves on ln, at most MaxConnections at once, until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.smtp.Serve(netutil.LimitListener(ln, s.cfg.MaxConnections))
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits, until ctx ends, for
// those open to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{s: s}, nil
}

// session is one SMTP conversation. It offers no AUTH: nobody needs to
// sign in to send a bounce, and the server relays nothing.
type session struct {
	s     *Server
	from  string
	rcpts []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

// errNoRelay refuses a recipient outside the bounce domain.
var errNoRelay = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
	Message: "Relay access denied: this server takes mail for its bounce domain only"}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	_, domain, ok := strings.Cut(to, "@")
	if !ok || strings.ToLower(domain) != ss.s.cfg.Domain {
		return errNoRelay
	}
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

// errTemporary asks the sender to try again later: nothing is lost while
// the database is away.
var errTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
	Message: "Temporary failure, try again later"}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == smtp.ErrDataTooLarge.Code {
			ss.s.deps.Metrics.Inbound("too_large")
		}
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), handleTimeout)
	defer cancel()
	if err := ss.s.handle(ctx, ss.from, ss.rcpts, raw); err != nil {
		ss.s.deps.Logger.Error("inbound message not handled; the sender will try again", "err", err)
		ss.s.deps.Metrics.Inbound("error")
		return errTemporary
	}
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.rcpts = "", nil
}

func (ss *session) Logout() error { return nil }

// handle records the verified events of one message, and keeps it when
// none was applied. An error (the database's) leaves nothing half done
// that a retry would not finish: the sink applies each event once.
func (s *Server) handle(ctx context.Context, from string, rcpts []string, raw []byte) error {
	res := bounce.Parse(raw, rcpts, s.deps.Refs)
	reason := res.Reason
	applied := 0
	var refused []string
	for _, e := range res.Events {
		e.Source = "smtp"
		if s.deps.Sink == nil {
			refused = append(refused, "no sink records events in this process")
			break
		}
		ok, why, err := s.deps.Sink.Record(ctx, e)
		if err != nil {
			return fmt.Errorf("record the %s event of delivery %d: %w", e.Kind, e.Delivery, err)
		}
		if ok {
			applied++
			s.deps.Logger.Info("inbound event recorded", "kind", e.Kind, "delivery", e.Delivery, "format", res.Format)
		} else {
			refused = append(refused, why)
		}
	}
	if applied > 0 {
		s.deps.Metrics.Inbound("applied")
		return nil
	}
	if len(refused) > 0 {
		reason = "not applied: " + strings.Join(refused, "; ")
	}
	id, err := s.deps.Kept.Keep(ctx, bounce.KeptMessage{
		MailFrom: from, RcptTo: strings.Join(rcpts, ","), Format: res.Format, Reason: reason, Raw: raw,
	})
	if err != nil {
		return err
	}
	s.deps.Metrics.Inbound("kept")
	s.deps.Logger.Warn("inbound message kept for staff", "id", id, "format", res.Format, "reason", reason)
	return nil
}

// errorLog writes go-smtp's errors (a broken connection, a bad command)
// to the logger, at debug level: they are the clients' doing.
type errorLog struct{ l *slog.Logger }

func (e errorLog) Printf(format string, v ...any) {
	e.l.Debug("inbound smtp", "msg", fmt.Sprintf(format, v...))
}
func (e errorLog) Println(v ...any) { e.l.Debug("inbound smtp", "msg", fmt.Sprint(v...)) }
