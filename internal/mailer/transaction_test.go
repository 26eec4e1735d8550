package mailer_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/mailer"
)

// stickyServer is an SMTP server that, like Postfix with
// smtpd_data_restrictions, keeps the transaction open after refusing DATA
// or the message: until the client says RSET, the next MAIL FROM gets
// "503 5.5.1 nested MAIL command". go-smtp's server resets by itself, so
// this one is written out here.
type stickyServer struct {
	addr string
	// refuseData and refuseMessage say which recipients' DATA or message
	// are refused.
	refuseData, refuseMessage func(rcpt string) bool

	mu       sync.Mutex
	accepted []string
	nested   int
	sessions int
}

func startSticky(t *testing.T, refuseData, refuseMessage func(string) bool) *stickyServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stickyServer{addr: ln.Addr().String(), refuseData: refuseData, refuseMessage: refuseMessage}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *stickyServer) serve(c net.Conn) {
	defer c.Close()
	s.mu.Lock()
	s.sessions++
	s.mu.Unlock()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 sticky.test ESMTP")
	var (
		open bool
		rcpt string
	)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-sticky.test")
			say("250 ENHANCEDSTATUSCODES")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			if open {
				s.mu.Lock()
				s.nested++
				s.mu.Unlock()
				say("503 5.5.1 Error: nested MAIL command")
				continue
			}
			open = true
			say("250 2.1.0 Ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			rcpt = strings.ToLower(strings.Trim(strings.TrimPrefix(strings.TrimSpace(line)[len("RCPT TO:"):], " "), "<>"))
			say("250 2.1.5 Ok")
		case cmd == "DATA":
			if s.refuseData(rcpt) {
				say("554 5.7.1 <DATA>: Data command rejected: not for " + rcpt)
				continue // the transaction stays open
			}
			say("354 End data with <CR><LF>.<CR><LF>")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			if s.refuseMessage(rcpt) {
				say("550 5.7.1 Message refused for " + rcpt)
				continue // and stays open here too
			}
			s.mu.Lock()
			s.accepted = append(s.accepted, rcpt)
			s.mu.Unlock()
			open = false
			say("250 2.0.0 Ok: queued")
		case cmd == "RSET":
			open = false
			say("250 2.0.0 Ok")
		case cmd == "NOOP":
			say("250 2.0.0 Ok")
		case cmd == "QUIT":
			say("221 2.0.0 Bye")
			return
		default:
			say("502 5.5.2 Error: command not recognized")
		}
	}
}

func TestARefusedMessageDoesNotPoisonTheNext(t *testing.T) {
	t.Parallel()
	bad := func(rcpt string) bool { return rcpt == "bad@acme.test" }
	never := func(string) bool { return false }
	for _, tt := range []struct {
		name                      string
		refuseData, refuseMessage func(string) bool
		want                      classified
	}{
		{"RefusedData", bad, never, classified{Code: 554, Enhanced: "5.7.1", Stage: mailer.StageData}},
		{"RefusedMessage", never, bad, classified{Code: 550, Enhanced: "5.7.1", Stage: mailer.StageMessage}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startSticky(t, tt.refuseData, tt.refuseMessage)
			host, port, _ := net.SplitHostPort(srv.addr)
			p, _ := strconv.Atoi(port)
			sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: host, Port: p, TLS: "none", Connections: 1, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sender.Close() })
			ctx := context.Background()

			err = sender.Send(ctx, message("bad@acme.test"))
			if diff := cmp.Diff(tt.want, classify(err)); diff != "" {
				t.Errorf("the refused message (-want +got):\n%s", diff)
			}
			for _, to := range []string{"ann@acme.test", "bob@acme.test"} {
				if err := sender.Send(ctx, message(to)); err != nil {
					t.Errorf("%s after the refused message: %v", to, err)
				}
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if diff := cmp.Diff([]string{"ann@acme.test", "bob@acme.test"}, srv.accepted); diff != "" {
				t.Errorf("accepted (-want +got):\n%s", diff)
			}
			if srv.nested != 0 || srv.sessions != 1 {
				t.Errorf("%d nested MAIL commands over %d connections; want none over one", srv.nested, srv.sessions)
			}
		})
	}
}
