package templates_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/templates"
)

// TestHTMLCheck sends every template, rendered on its sample data, to
// Mailpit and reads its HTML check, which scores the HTML and CSS against
// what the major mail clients support. It runs where Mailpit is installed
// (.ci/run installs it; HERALD_TEST_MAILPIT names the binary elsewhere).
func TestHTMLCheck(t *testing.T) {
	bin := os.Getenv("HERALD_TEST_MAILPIT")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("mailpit"); err != nil {
			t.Skip("mailpit is not installed: go install github.com/axllent/mailpit@v1.33.1")
		}
	}
	api, smtpPort := startMailpit(t, bin)

	r, err := templates.New("", specs(t))
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(smtpPort)
	sender, err := mailer.NewSMTP(mailer.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()

	for i, name := range r.Names() {
		t.Run(name, func(t *testing.T) {
			data, _ := r.Sample(name)
			msg, err := r.Render(name, "en", data)
			if err != nil {
				t.Fatal(err)
			}
			id := fmt.Sprintf("%d.htmlcheck@vendor.test", i)
			if err := sender.Send(context.Background(), mailer.Message{From: "Vendor <news@vendor.test>", To: "ann@example.com",
				Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML, MessageID: id}); err != nil {
				t.Fatal(err)
			}
			var check struct {
				Total struct {
					Nodes       int
					Supported   float64
					Unsupported float64
				}
				Warnings []struct {
					Title string
					Score struct{ Unsupported float64 }
				}
			}
			getJSON(t, api+"/message/"+mailpitID(t, api, id)+"/html-check", &check)
			t.Logf("%s: %.1f%% supported, %.1f%% unsupported over %d nodes", name, check.Total.Supported, check.Total.Unsupported, check.Total.Nodes)
			if check.Total.Nodes == 0 || check.Total.Unsupported > 3 {
				t.Errorf("%s: %.1f%% of what the HTML uses is unsupported by mail clients; want at most 3%%: %+v", name, check.Total.Unsupported, check.Warnings)
			}
			for _, w := range check.Warnings {
				// <body> is dropped by webmail, by design: the layout styles
				// its own tables, not the body.
				if w.Title != "<body> element" && w.Score.Unsupported > 15 {
					t.Errorf("%s uses %s, unsupported by %.0f%% of clients", name, w.Title, w.Score.Unsupported)
				}
			}
		})
	}
}

// mailpitID finds the Mailpit id of the message with a Message-ID.
func mailpitID(t *testing.T, api, messageID string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var list struct {
			Messages []struct{ ID, MessageID string }
		}
		getJSON(t, api+"/messages", &list)
		for _, m := range list.Messages {
			if m.MessageID == messageID {
				return m.ID
			}
		}
	}
	t.Fatalf("mailpit has no message %s", messageID)
	return ""
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// startMailpit starts Mailpit on two free ports and waits until both its
// API and its SMTP server answer. A port found free can be taken by
// another process before Mailpit binds it; Mailpit then exits, and it is
// started again on other ports.
func startMailpit(t *testing.T, bin string) (api, smtpPort string) {
	t.Helper()
	for range 5 {
		smtpPort, httpPort := freePort(t), freePort(t)
		cmd := exec.Command(bin, "--smtp", "127.0.0.1:"+smtpPort, "--listen", "127.0.0.1:"+httpPort, "--database", "", "--quiet")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		api = "http://127.0.0.1:" + httpPort + "/api/v1"
		up := apptest.Eventually(20*time.Second, func() bool {
			select {
			case <-exited:
				return true
			default:
			}
			res, err := http.Get(api + "/info")
			if err != nil {
				return false
			}
			res.Body.Close()
			conn, err := net.Dial("tcp", "127.0.0.1:"+smtpPort)
			if err != nil {
				return false
			}
			conn.Close()
			return true
		})
		select {
		case <-exited:
			t.Logf("mailpit on ports %s and %s exited; trying others", smtpPort, httpPort)
			continue
		default:
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		if !up {
			t.Fatal("mailpit did not start within 20s")
		}
		return api, smtpPort
	}
	t.Fatal("mailpit did not start in five tries")
	return "", ""
}

// freePort is a port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
