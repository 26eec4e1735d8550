package mailer_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/smtptest"
)

func TestParseSMTPURL(t *testing.T) {
	t.Parallel()

	t.Run("Good", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			url  string
			want mailer.SMTPConfig
		}{
			{"smtp://mail.acme.test", mailer.SMTPConfig{Host: "mail.acme.test", Port: 587, TLS: "starttls"}},
			{"smtp://mail.acme.test?tls=starttls", mailer.SMTPConfig{Host: "mail.acme.test", Port: 587, TLS: "starttls"}},
			{"smtp://mail.acme.test?tls=tls", mailer.SMTPConfig{Host: "mail.acme.test", Port: 465, TLS: "tls"}},
			{"smtp://mail.acme.test?tls=none", mailer.SMTPConfig{Host: "mail.acme.test", Port: 25, TLS: "none"}},
			{"smtps://mail.acme.test", mailer.SMTPConfig{Host: "mail.acme.test", Port: 465, TLS: "tls"}},
			{"smtps://mail.acme.test:2465", mailer.SMTPConfig{Host: "mail.acme.test", Port: 2465, TLS: "tls"}},
			{"smtp://mail.acme.test:25?tls=starttls", mailer.SMTPConfig{Host: "mail.acme.test", Port: 25, TLS: "starttls"}},
			{"smtp://127.0.0.1:2525?tls=none", mailer.SMTPConfig{Host: "127.0.0.1", Port: 2525, TLS: "none"}},
			{"smtp://[::1]:2525?tls=none", mailer.SMTPConfig{Host: "::1", Port: 2525, TLS: "none"}},
			{"smtp://herald:s3cret@mail.acme.test", mailer.SMTPConfig{Host: "mail.acme.test", Port: 587, TLS: "starttls", Username: "herald", Password: "s3cret"}},
			{"smtp://herald%40acme.test:p%40ss%2Fw%3Ard%20x@mail.acme.test:587", mailer.SMTPConfig{Host: "mail.acme.test", Port: 587, TLS: "starttls", Username: "herald@acme.test", Password: "p@ss/w:rd x"}},
			{"smtp://apikey@mail.acme.test", mailer.SMTPConfig{Host: "mail.acme.test", Port: 587, TLS: "starttls", Username: "apikey"}},
		} {
			got, err := mailer.ParseSMTPURL(tt.url)
			if err != nil {
				t.Errorf("%s: %v", tt.url, err)
				continue
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.url, diff)
			}
		}
	})

	t.Run("Bad", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			url, wantErr string
		}{
			{"http://mail.acme.test", `unsupported scheme "http"`},
			{"mail.acme.test", `unsupported scheme ""`},
			{"smtp://mail.acme.test?tls=ssl", `tls="ssl" is not starttls, tls or none`},
			{"smtp://mail.acme.test?tls=STARTTLS", `tls="STARTTLS" is not starttls, tls or none`},
			{"smtp://mail.acme.test:0", `port "0" is not a port number`},
			{"smtp://mail.acme.test:65536", `port "65536" is not a port number`},
			{"smtp://mail.acme.test:smtp", `not a URL`},
			{"smtp://mail.acme.test?tls=none&pool=4", `unknown parameter "pool"`},
			{"smtp://mail.acme.test?TLS=none", `unknown parameter "TLS"`},
			{"smtp://?tls=none", `no host`},
			{"smtp://herald:s3cret@:587", `no host`},
			{"smtp:///", `no host`},
			{"://mail.acme.test", `not a URL`},
		} {
			got, err := mailer.ParseSMTPURL(tt.url)
			if err == nil {
				t.Errorf("%s: got %+v, want error %q", tt.url, got, tt.wantErr)
				continue
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %q, want it to say %q", tt.url, err, tt.wantErr)
			}
		}
	})
}

func TestSMTPTLS(t *testing.T) {
	t.Parallel()

	t.Run("STARTTLS", func(t *testing.T) {
		t.Parallel()
		serverTLS, clientTLS := certificates(t)
		sender, bundle := startSMTP(t, mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS}, smtptest.WithSTARTTLS(serverTLS))

		if err := sender.Send(context.Background(), message("ann@acme.test")); err != nil {
			t.Fatal(err)
		}
		got := bundle.server.Messages()
		if len(got) != 1 || !got[0].TLS {
			t.Fatalf("server got %d messages (over TLS: %v), want 1 over TLS", len(got), len(got) == 1 && got[0].TLS)
		}
		if diff := cmp.Diff([]string{"ann@acme.test"}, got[0].To); diff != "" {
			t.Errorf("recipients (-want +got):\n%s", diff)
		}
	})

	t.Run("ImplicitTLS", func(t *testing.T) {
		t.Parallel()
		serverTLS, clientTLS := certificates(t)
		sender, bundle := startSMTP(t, mailer.SMTPConfig{TLS: "tls", TLSConfig: clientTLS}, smtptest.WithImplicitTLS(serverTLS))

		if err := sender.Send(context.Background(), message("ann@acme.test")); err != nil {
			t.Fatal(err)
		}
		got := bundle.server.Messages()
		if len(got) != 1 || !got[0].TLS {
			t.Fatalf("server got %d messages, want 1 over TLS", len(got))
		}
	})

	t.Run("STARTTLSIsMandatory", func(t *testing.T) {
		t.Parallel()
		_, clientTLS := certificates(t)
		sender, bundle := startSMTP(t, mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS})

		err := sender.Send(context.Background(), message("ann@acme.test"))
		if err == nil {
			t.Fatal("sent in the clear to a server without STARTTLS")
		}
		if !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("error %q does not name STARTTLS", err)
		}
		if n := bundle.server.Accepted(); n != 0 {
			t.Errorf("server accepted %d messages, want 0", n)
		}
	})

	t.Run("UntrustedCertificateIsRefused", func(t *testing.T) {
		t.Parallel()
		serverTLS, _ := certificates(t)
		_, otherCA := certificates(t)
		for _, mode := range []struct {
			tls    string
			server smtptest.Option
		}{
			{"starttls", smtptest.WithSTARTTLS(serverTLS)},
			{"tls", smtptest.WithImplicitTLS(serverTLS)},
		} {
			sender, bundle := startSMTP(t, mailer.SMTPConfig{TLS: mode.tls, TLSConfig: otherCA}, mode.server)
			err := sender.Send(context.Background(), message("ann@acme.test"))
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("tls=%s: error %v, want a certificate error", mode.tls, err)
			}
			if n := bundle.server.Accepted(); n != 0 {
				t.Errorf("tls=%s: server accepted %d messages, want 0", mode.tls, n)
			}
		}
	})
}

func TestSMTPAuth(t *testing.T) {
	t.Parallel()

	t.Run("SendsCredentials", func(t *testing.T) {
		t.Parallel()
		serverTLS, clientTLS := certificates(t)
		sender, bundle := startSMTP(t,
			mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS, Username: "herald@acme.test", Password: "p@ss w:rd"},
			smtptest.WithSTARTTLS(serverTLS), smtptest.WithAuth("herald@acme.test", "p@ss w:rd"))

		for range 3 {
			if err := sender.Send(context.Background(), message("ann@acme.test")); err != nil {
				t.Fatal(err)
			}
		}
		var users []string
		for _, m := range bundle.server.Messages() {
			users = append(users, m.User)
		}
		if diff := cmp.Diff([]string{"herald@acme.test", "herald@acme.test", "herald@acme.test"}, users); diff != "" {
			t.Errorf("authenticated users of the messages (-want +got):\n%s", diff)
		}
	})

	t.Run("WrongPasswordIsTheRelays", func(t *testing.T) {
		t.Parallel()
		// A wrong password is herald's configuration, not the recipient's
		// fault: the relay's error, which pauses the send, never a failure
		// of the message.
		serverTLS, clientTLS := certificates(t)
		sender, bundle := startSMTP(t,
			mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS, Username: "herald@acme.test", Password: "wrong"},
			smtptest.WithSTARTTLS(serverTLS), smtptest.WithAuth("herald@acme.test", "right"))

		err := sender.Send(context.Background(), message("ann@acme.test"))
		if err == nil {
			t.Fatal("sent with a wrong password")
		}
		if diff := cmp.Diff(classified{Temporary: true, Code: 535, Enhanced: "5.7.8", Stage: mailer.StageConnect, Relay: true}, classify(err)); diff != "" {
			t.Errorf("Classify (-want +got):\n%s", diff)
		}
		if n := bundle.server.AuthFailures(); n != 1 {
			t.Errorf("server refused %d AUTH attempts, want 1", n)
		}
		if n := bundle.server.Accepted(); n != 0 {
			t.Errorf("server accepted %d messages, want 0", n)
		}
	})

	t.Run("NoPasswordInTheClear", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t,
			mailer.SMTPConfig{TLS: "none", Username: "herald@acme.test", Password: "s3cret"},
			smtptest.WithAuth("herald@acme.test", "s3cret"))

		if err := sender.Send(context.Background(), message("ann@acme.test")); err == nil {
			t.Fatal("authenticated with a plain-text password over an unencrypted connection")
		}
		if n := bundle.server.Accepted(); n != 0 {
			t.Errorf("server accepted %d messages, want 0", n)
		}
	})
}

func TestSMTPPool(t *testing.T) {
	t.Parallel()

	t.Run("SequentialSendsReuseConnections", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 2})

		for i := range 50 {
			if err := sender.Send(context.Background(), message(fmt.Sprintf("p%02d@acme.test", i))); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
		}
		if n := bundle.server.Accepted(); n != 50 {
			t.Errorf("server accepted %d messages, want 50", n)
		}
		if n := bundle.server.Sessions(); n > 2 {
			t.Errorf("%d connections opened, want at most 2", n)
		}
	})

	t.Run("ConcurrentSendsShareConnections", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 3})

		var wg sync.WaitGroup
		errs := make([]error, 20)
		for i := range 20 {
			wg.Go(func() {
				errs[i] = sender.Send(context.Background(), message(fmt.Sprintf("p%02d@acme.test", i)))
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		want := map[string]int{}
		for i := range 20 {
			want[fmt.Sprintf("p%02d@acme.test", i)] = 1
		}
		if diff := cmp.Diff(want, bundle.server.PerRecipient()); diff != "" {
			t.Errorf("messages per recipient (-want +got):\n%s", diff)
		}
		if n := bundle.server.Sessions(); n > 3 {
			t.Errorf("%d connections opened, want at most 3", n)
		}
	})

	t.Run("WaitForAConnectionEndsWithTheContext", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 1})
		release := make(chan struct{})
		inData := make(chan struct{}, 1)
		bundle.server.Data = func(n int, to []string) error {
			inData <- struct{}{}
			<-release
			return nil
		}

		first := make(chan error, 1)
		go func() { first <- sender.Send(context.Background(), message("ann@acme.test")) }()
		<-inData // the only connection is busy

		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := sender.Send(ctx, message("bob@acme.test"))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want the context's deadline", err)
		}
		if diff := cmp.Diff(classified{Temporary: true}, classify(err)); diff != "" {
			t.Errorf("Classify (-want +got):\n%s", diff)
		}

		close(release)
		if err := <-first; err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1}, bundle.server.PerRecipient()); diff != "" {
			t.Errorf("messages per recipient (-want +got):\n%s", diff)
		}
	})

	t.Run("CloseQuitsEveryConnection", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 3})
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				if err := sender.Send(context.Background(), message(fmt.Sprintf("p%d@acme.test", i))); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if bundle.server.Open() == 0 {
			t.Fatal("no connection stayed open after sending")
		}

		if err := sender.Close(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the server to see every connection closed", func() bool { return bundle.server.Open() == 0 })

		// The cleanup closes it once more, as deferred closes do.
		closed := make(chan error, 1)
		go func() { closed <- sender.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				t.Errorf("closing again: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("closing again waits forever")
		}
	})
}

func TestSMTPReconnect(t *testing.T) {
	t.Parallel()

	t.Run("AfterTheServerClosedTheConnection", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 1})

		for i := range 3 {
			if err := sender.Send(context.Background(), message(fmt.Sprintf("p%d@acme.test", i))); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			bundle.server.CloseConnections()
			waitFor(t, "the server to close its connections", func() bool { return bundle.server.Open() == 0 })
		}
		if n := bundle.server.Accepted(); n != 3 {
			t.Errorf("server accepted %d messages, want 3", n)
		}
		if n := bundle.server.Sessions(); n != 3 {
			t.Errorf("%d connections opened, want 3 (one per message)", n)
		}
	})

	t.Run("AfterAnIdleTimeout", func(t *testing.T) {
		t.Parallel()
		// Real servers say 421 before they hang up on an idle client; the
		// reply waits in the socket until the next MAIL FROM reads it.
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 1}, smtptest.WithIdleTimeout(100*time.Millisecond))

		for i := range 3 {
			if err := sender.Send(context.Background(), message(fmt.Sprintf("p%d@acme.test", i))); err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			waitFor(t, "the server to time the connection out", func() bool { return bundle.server.Open() == 0 })
		}
		if n := bundle.server.Accepted(); n != 3 {
			t.Errorf("server accepted %d messages, want 3", n)
		}
	})

	t.Run("NotOnceTheMessageWasHandedOver", func(t *testing.T) {
		t.Parallel()
		// Dropped in the middle of DATA, the server may have kept the
		// message: sending it again at once could deliver it twice.
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 1})
		var datas atomic.Int64
		bundle.server.Data = func(n int, to []string) error {
			datas.Add(1)
			if n == 1 {
				return smtptest.ErrDrop
			}
			return nil
		}

		err := sender.Send(context.Background(), message("ann@acme.test"))
		if diff := cmp.Diff(classified{Temporary: true, Stage: mailer.StageMessage}, classify(err)); diff != "" {
			t.Errorf("Classify (-want +got):\n%s", diff)
		}
		if n := datas.Load(); n != 1 {
			t.Errorf("server saw %d DATA commands, want 1", n)
		}

		if err := sender.Send(context.Background(), message("ann@acme.test")); err != nil {
			t.Fatalf("the send after the drop: %v", err)
		}
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1}, bundle.server.PerRecipient()); diff != "" {
			t.Errorf("messages per recipient (-want +got):\n%s", diff)
		}
	})

	t.Run("AfterA421SayingTheConnectionTimedOut", func(t *testing.T) {
		t.Parallel()
		// Postfix's words for an idle client it hangs up on: nothing was
		// delivered, and a new connection works.
		sender, server := startMailServer(t, firstOnly(smtptest.Reply(421, [3]int{4, 4, 2}, "mail.acme.test Error: timeout exceeded")))

		if err := sender.Send(context.Background(), message("ann@acme.test")); err != nil {
			t.Fatal(err)
		}
		if n := server.accepted.Load(); n != 1 {
			t.Errorf("server accepted %d messages, want 1", n)
		}
		if n := server.sessions.Load(); n != 2 {
			t.Errorf("%d connections opened, want 2", n)
		}
	})

	t.Run("NotAfterA421ThatSlowsHeraldDown", func(t *testing.T) {
		t.Parallel()
		// Dialling again at once would only ask the relay again: the
		// message waits, and herald slows down.
		sender, server := startMailServer(t, firstOnly(smtptest.Reply(421, [3]int{4, 7, 0}, "Too many messages, slow down")))

		err := sender.Send(context.Background(), message("ann@acme.test"))
		want := classified{Temporary: true, Code: 421, Enhanced: "4.7.0", Stage: mailer.StageMail, Throttled: true}
		if diff := cmp.Diff(want, classify(err)); diff != "" {
			t.Errorf("Classify (-want +got):\n%s", diff)
		}
		if n := server.mails.Load(); n != 1 {
			t.Errorf("server saw %d MAIL FROM commands, want 1", n)
		}
		if n := server.sessions.Load(); n != 1 {
			t.Errorf("%d connections opened, want 1", n)
		}
	})

	t.Run("ServerDownIsTheRelays", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sender.Close() })

		err = sender.Send(context.Background(), message("ann@acme.test"))
		if diff := cmp.Diff(classified{Temporary: true, Stage: mailer.StageConnect, Relay: true}, classify(err)); diff != "" {
			t.Errorf("Classify (-want +got):\n%s", diff)
		}
	})
}

func TestSMTPPortIsKept(t *testing.T) {
	t.Parallel()
	// Port 25 is go-mail's default port, which its TLS options replace
	// with 587 or 465 unless the port is set after them.
	for _, mode := range []string{"starttls", "tls"} {
		sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: 25, TLS: mode, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		err = sender.Send(context.Background(), message("ann@acme.test"))
		sender.Close()
		var opErr *net.OpError
		if !errors.As(err, &opErr) {
			t.Skipf("tls=%s: something answers on 127.0.0.1:25 (%v)", mode, err)
		}
		if got := opErr.Addr.String(); got != "127.0.0.1:25" {
			t.Errorf("tls=%s: dialled %s, want 127.0.0.1:25", mode, got)
		}
	}
}

func TestSMTPClassification(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		name string
		rcpt func(to string) error
		data func(n int, to []string) error
		want classified
	}{
		{
			name: "MailboxBusyOnRcptIsTemporary",
			rcpt: func(string) error { return smtptest.Reply(450, [3]int{4, 2, 0}, "mailbox busy") },
			want: classified{Temporary: true, Code: 450, Enhanced: "4.2.0", Stage: mailer.StageRcpt},
		},
		{
			name: "UnknownUserOnRcptRejectsTheRecipient",
			rcpt: func(string) error { return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user") },
			want: classified{Code: 550, Enhanced: "5.1.1", Stage: mailer.StageRcpt, Mailbox: true},
		},
		{
			name: "RejectedAtEndOfDataIsPermanent",
			data: func(int, []string) error { return smtptest.Reply(554, [3]int{5, 7, 1}, "spam") },
			want: classified{Code: 554, Enhanced: "5.7.1", Stage: mailer.StageMessage},
		},
		{
			name: "DeferredAtEndOfDataIsTemporary",
			data: func(int, []string) error { return smtptest.Reply(452, [3]int{4, 3, 1}, "disk full") },
			want: classified{Temporary: true, Code: 452, Enhanced: "4.3.1", Stage: mailer.StageMessage},
		},
		{
			name: "DroppedInDataIsTemporary",
			data: func(int, []string) error { return smtptest.ErrDrop },
			want: classified{Temporary: true, Stage: mailer.StageMessage},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sender, bundle := startSMTP(t, mailer.SMTPConfig{})
			bundle.server.Rcpt = tt.rcpt
			bundle.server.Data = tt.data

			err := sender.Send(context.Background(), message("ann@acme.test"))
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, classify(err)); diff != "" {
				t.Errorf("Classify (-want +got):\n%s", diff)
			}
			if n := bundle.server.Accepted(); n != 0 {
				t.Errorf("server accepted %d messages, want 0", n)
			}
		})
	}

	t.Run("ConnectionSurvivesARejection", func(t *testing.T) {
		t.Parallel()
		sender, bundle := startSMTP(t, mailer.SMTPConfig{Connections: 1})
		bundle.server.Rcpt = func(to string) error {
			if to == "gone@acme.test" {
				return smtptest.Reply(550, [3]int{5, 1, 1}, "no such user")
			}
			return nil
		}

		if err := sender.Send(context.Background(), message("gone@acme.test")); !classify(err).Mailbox {
			t.Fatalf("error %v, want the recipient rejected", err)
		}
		if err := sender.Send(context.Background(), message("ann@acme.test")); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int{"ann@acme.test": 1}, bundle.server.PerRecipient()); diff != "" {
			t.Errorf("messages per recipient (-want +got):\n%s", diff)
		}
		if n := bundle.server.Sessions(); n != 1 {
			t.Errorf("%d connections opened, want 1", n)
		}
	})
}

type smtpBundle struct {
	server *smtptest.Server
}

// startSMTP starts a server with opts and a sender for it; cfg's Host and
// Port are the server's, its TLS is "none" unless set.
func startSMTP(t *testing.T, cfg mailer.SMTPConfig, opts ...smtptest.Option) (*mailer.SMTP, *smtpBundle) {
	t.Helper()
	server := smtptest.Start(t, opts...)
	port, err := strconv.Atoi(server.Port())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host, cfg.Port = "127.0.0.1", port
	if cfg.TLS == "" {
		cfg.TLS = "none"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	sender, err := mailer.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	return sender, &smtpBundle{server: server}
}

// certificates makes a self-signed certificate for 127.0.0.1: the server's
// TLS settings, and the client's, which trust it and nothing else.
func certificates(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "smtptest"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}},
		&tls.Config{RootCAs: roots}
}

// classified is what Classify says, without the error itself.
type classified struct {
	Temporary bool
	Code      int
	Enhanced  string
	Stage     mailer.Stage
	Mailbox   bool
	Throttled bool
	Relay     bool
}

func classify(err error) classified {
	if err == nil {
		return classified{}
	}
	e := mailer.Classify(err)
	return classified{Temporary: e.Temporary, Code: e.Code, Enhanced: e.Enhanced, Stage: e.Stage, Mailbox: e.Mailbox, Throttled: e.Throttled, Relay: e.Relay}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// heraldFrom is the sender of every test message, as HERALD_FROM.
const heraldFrom = "Vendor Updates <updates@vendor.test>"

// message is a message to one recipient, with text and HTML.
func message(to string) mailer.Message {
	return mailer.Message{
		From:      heraldFrom,
		To:        to,
		Subject:   "Jira 1.0 is out",
		Text:      "Jira 1.0 is out.\n\nFaster boards.",
		HTML:      "<p>Jira 1.0 is out.</p><p>Faster boards.</p>",
		MessageID: "release-1." + strings.ReplaceAll(to, "@", ".") + "@vendor.test",
		Date:      time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC),
	}
}

// TestProbe checks the relay as a process does at start: a relay that
// refuses herald's connection, TLS mode, credentials or sender is the
// relay's error, with the setting to change.
func TestProbe(t *testing.T) {
	t.Parallel()
	serverTLS, clientTLS := certificates(t)
	closedPort := func(t *testing.T) int {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}
	for _, tt := range []struct {
		name   string
		cfg    mailer.SMTPConfig
		opts   []smtptest.Option
		advice string // empty: the probe passes
	}{
		{name: "Works", cfg: mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS, Username: "herald", Password: "right"},
			opts: []smtptest.Option{smtptest.WithSTARTTLS(serverTLS), smtptest.WithAuth("herald", "right")}},
		{name: "WrongPassword", cfg: mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS, Username: "herald", Password: "wrong"},
			opts: []smtptest.Option{smtptest.WithSTARTTLS(serverTLS), smtptest.WithAuth("herald", "right")}, advice: "user name or password of HERALD_SMTP_URL"},
		{name: "NoSTARTTLS", cfg: mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS}, advice: "does not offer STARTTLS; for a local relay use ?tls=none"},
		{name: "NoImplicitTLS", cfg: mailer.SMTPConfig{TLS: "tls", TLSConfig: clientTLS}, advice: "does not speak TLS from the first byte"},
		{name: "PasswordInTheClear", cfg: mailer.SMTPConfig{TLS: "none", Username: "herald", Password: "right"},
			opts: []smtptest.Option{smtptest.WithAuth("herald", "right")}, advice: "HERALD_SMTP_URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sender, _ := startSMTP(t, tt.cfg, tt.opts...)
			err := sender.Probe(context.Background(), heraldFrom)
			if tt.advice == "" {
				if err != nil {
					t.Fatalf("Probe = %v", err)
				}
				return
			}
			e := mailer.Classify(err)
			if !e.Relay || !strings.Contains(e.Advice, tt.advice) {
				t.Errorf("Probe = %v (relay %v, advice %q); want the relay's, advising %q", err, e.Relay, e.Advice, tt.advice)
			}
		})
	}

	t.Run("NothingAnswers", func(t *testing.T) {
		t.Parallel()
		// A server that waits for TLS from the first byte, as on port 465,
		// never greets a client that waits for its greeting.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var (
			mu       sync.Mutex
			accepted []net.Conn
			wg       sync.WaitGroup
		)
		t.Cleanup(func() {
			ln.Close()
			wg.Wait()
			for _, c := range accepted {
				c.Close()
			}
		})
		wg.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				accepted = append(accepted, c)
				mu.Unlock()
			}
		})
		sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: "starttls", Timeout: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		e := mailer.Classify(sender.Probe(context.Background(), heraldFrom))
		if !e.Relay || !strings.Contains(e.Advice, "did not answer") {
			t.Errorf("Probe = %v (relay %v, advice %q)", e, e.Relay, e.Advice)
		}
	})

	t.Run("NothingListens", func(t *testing.T) {
		t.Parallel()
		sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: closedPort(t), TLS: "none", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		e := mailer.Classify(sender.Probe(context.Background(), heraldFrom))
		if !e.Relay || !strings.Contains(e.Advice, "nothing accepts connections") {
			t.Errorf("Probe = %v (relay %v, advice %q)", e, e.Relay, e.Advice)
		}
	})

	t.Run("TakesTheSenderAndKeepsTheConnection", func(t *testing.T) {
		t.Parallel()
		sender, server := startMailServer(t, nil)
		ctx := context.Background()

		if err := sender.Probe(ctx, heraldFrom); err != nil {
			t.Fatalf("Probe = %v", err)
		}
		if err := sender.Send(ctx, message("ann@acme.test")); err != nil {
			t.Fatal(err)
		}
		// A probe on the open connection says MAIL FROM on it too.
		if err := sender.Probe(ctx, heraldFrom); err != nil {
			t.Fatalf("Probe on the open connection = %v", err)
		}
		if diff := cmp.Diff([]string{"updates@vendor.test", "updates@vendor.test", "updates@vendor.test"}, server.Froms()); diff != "" {
			t.Errorf("MAIL FROM (-want +got):\n%s", diff)
		}
		if n := server.accepted.Load(); n != 1 {
			t.Errorf("server accepted %d messages, want 1", n)
		}
		if n := server.sessions.Load(); n != 1 {
			t.Errorf("%d connections opened, want 1: the probe's, kept for the message", n)
		}
	})

	t.Run("A421ClosesTheConnection", func(t *testing.T) {
		t.Parallel()
		sender, server := startMailServer(t, firstOnly(smtptest.Reply(421, [3]int{4, 7, 0}, "Too many messages, slow down")))
		ctx := context.Background()

		err := sender.Probe(ctx, heraldFrom)
		want := classified{Temporary: true, Code: 421, Enhanced: "4.7.0", Stage: mailer.StageMail, Throttled: true}
		if diff := cmp.Diff(want, classify(err)); diff != "" {
			t.Errorf("Classify (-want +got):\n%s", diff)
		}
		if err := sender.Probe(ctx, heraldFrom); err != nil {
			t.Fatalf("the probe after: %v", err)
		}
		if n := server.sessions.Load(); n != 2 {
			t.Errorf("%d connections opened, want 2: a new one after the 421", n)
		}
	})

	t.Run("NotAnAddress", func(t *testing.T) {
		t.Parallel()
		sender, server := startMailServer(t, nil)
		if err := sender.Probe(context.Background(), "Vendor Updates"); err == nil {
			t.Fatal("Probe took a sender with no address")
		}
		if n := server.sessions.Load(); n != 0 {
			t.Errorf("%d connections opened, want none", n)
		}
	})
}

func TestSMTPSenderRefused(t *testing.T) {
	t.Parallel()
	// herald sends every message from HERALD_FROM: a relay that refuses it
	// refuses every message, which is the relay's failure, with the
	// setting to change, and never a recipient's.
	for _, tt := range []struct {
		name   string
		reply  error
		want   classified
		advice string
	}{
		{
			name:   "SenderDomainNotFound",
			reply:  smtptest.Reply(550, [3]int{5, 1, 0}, "<updates@vendor.test>: Sender address rejected: Domain not found"),
			want:   classified{Temporary: true, Code: 550, Enhanced: "5.1.0", Stage: mailer.StageMail, Relay: true},
			advice: "the relay refuses HERALD_FROM (updates@vendor.test) as the sender",
		},
		{
			name:   "SenderNotAuthorized",
			reply:  smtptest.Reply(553, [3]int{5, 7, 1}, "<updates@vendor.test>: Sender address rejected: not authorized for this account"),
			want:   classified{Temporary: true, Code: 553, Enhanced: "5.7.1", Stage: mailer.StageMail, Relay: true},
			advice: "the relay refuses HERALD_FROM (updates@vendor.test) as the sender",
		},
		{
			name:   "NotAuthenticated",
			reply:  smtptest.Reply(530, [3]int{5, 7, 57}, "Client not authenticated to send mail."),
			want:   classified{Temporary: true, Code: 530, Enhanced: "5.7.57", Stage: mailer.StageMail, Relay: true},
			advice: "put a user name and password in HERALD_SMTP_URL",
		},
		{
			name:   "STARTTLSRequired",
			reply:  smtptest.Reply(530, [3]int{5, 7, 0}, "Must issue a STARTTLS command first"),
			want:   classified{Temporary: true, Code: 530, Enhanced: "5.7.0", Stage: mailer.StageMail, Relay: true},
			advice: "use ?tls=starttls",
		},
	} {
		// The probe finds it at start, as a send does.
		for _, via := range []string{"Send", "Probe"} {
			t.Run(tt.name+"/"+via, func(t *testing.T) {
				t.Parallel()
				sender, server := startMailServer(t, func(int, string) error { return tt.reply })

				var err error
				if via == "Send" {
					err = sender.Send(context.Background(), message("ann@acme.test"))
				} else {
					err = sender.Probe(context.Background(), heraldFrom)
				}
				if diff := cmp.Diff(tt.want, classify(err)); diff != "" {
					t.Errorf("Classify (-want +got):\n%s", diff)
				}
				if advice := mailer.Classify(err).Advice; !strings.Contains(advice, tt.advice) {
					t.Errorf("advice %q, want it to say %q", advice, tt.advice)
				}
				if diff := cmp.Diff([]string{"updates@vendor.test"}, server.Froms()); diff != "" {
					t.Errorf("MAIL FROM (-want +got):\n%s", diff)
				}
				if n := server.accepted.Load(); n != 0 {
					t.Errorf("server accepted %d messages, want 0", n)
				}
			})
		}
	}
}

func TestSMTPFailedDialClosesTheConnection(t *testing.T) {
	t.Parallel()
	// A session refused after connecting is herald's connection all the
	// same: left open, the relay counts it against herald's limit until
	// it times out.
	serverTLS, clientTLS := certificates(t)
	for _, tt := range []struct {
		name string
		cfg  mailer.SMTPConfig
		opts []smtptest.Option
	}{
		{name: "WrongPassword", cfg: mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS, Username: "herald", Password: "wrong"},
			opts: []smtptest.Option{smtptest.WithSTARTTLS(serverTLS), smtptest.WithAuth("herald", "right")}},
		{name: "NoSTARTTLS", cfg: mailer.SMTPConfig{TLS: "starttls", TLSConfig: clientTLS}},
		{name: "PasswordInTheClear", cfg: mailer.SMTPConfig{TLS: "none", Username: "herald", Password: "right"},
			opts: []smtptest.Option{smtptest.WithAuth("herald", "right")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sender, bundle := startSMTP(t, tt.cfg, tt.opts...)
			ctx := context.Background()

			if err := sender.Probe(ctx, heraldFrom); !mailer.Classify(err).Relay {
				t.Fatalf("Probe = %v, want the relay's error", err)
			}
			waitFor(t, "the server to see the probe's connection closed", func() bool { return bundle.server.Open() == 0 })
			if err := sender.Send(ctx, message("ann@acme.test")); !mailer.Classify(err).Relay {
				t.Fatalf("Send = %v, want the relay's error", err)
			}
			waitFor(t, "the server to see the send's connection closed", func() bool { return bundle.server.Open() == 0 })
			if n := bundle.server.Sessions(); n < 2 {
				t.Errorf("the server saw %d sessions, want one per try", n)
			}
		})
	}

	t.Run("EHLORefused", func(t *testing.T) {
		t.Parallel()
		// A relay that refuses herald's address at EHLO (and HELO) gives
		// it no session at all: only the socket tells it was closed.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		accepted := make(chan net.Conn, 1)
		var wg sync.WaitGroup
		t.Cleanup(func() {
			ln.Close()
			select {
			case c := <-accepted:
				c.Close()
			default:
			}
			wg.Wait()
		})
		wg.Go(func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			_, _ = c.Write([]byte("220 refusing.test ESMTP\r\n"))
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					if !isTimeout(err) {
						close(closed)
					}
					return
				}
				if strings.HasPrefix(strings.ToUpper(line), "QUIT") {
					_, _ = c.Write([]byte("221 2.0.0 Bye\r\n"))
					continue
				}
				_, _ = c.Write([]byte("554 5.7.1 Client host rejected: Access denied\r\n"))
			}
		})
		sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: "none", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sender.Close() })

		if err := sender.Probe(context.Background(), heraldFrom); !mailer.Classify(err).Relay {
			t.Fatalf("Probe = %v, want the relay's error", err)
		}
		waitFor(t, "the server to see the connection closed", func() bool {
			select {
			case <-closed:
				return true
			default:
				return false
			}
		})
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
