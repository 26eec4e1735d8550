package admin_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

// logBuffer is a log that herald writes while the test reads it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// unsubscribeToken returns the token of email's unsubscribe link, made as
// herald makes it.
func unsubscribeToken(t *testing.T, b *apptest.Bundle, email string) string {
	t.Helper()
	secret, err := unsubscribe.Secret(context.Background(), b.DB, b.Config.Lists.Secret)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := unsubscribe.New(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tokens.Make(email, unsubscribe.CategoryAnnouncements)
}

func TestRequestLogHidesTokensInPaths(t *testing.T) {
	t.Parallel()
	var log logBuffer
	b := &testBundle{apptest.Start(t, apptest.Options{API: true, Log: &log})}
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-1","product":"jira","name":"Acme","contacts":[{"email":"pat@acme.test","name":"Pat","role":"technical"}]}`})
	token := unsubscribeToken(t, b.Bundle, "pat@acme.test")
	// The log shows the path as requested, before the router cleans it and
	// redirects: each spelling of a token path is hidden.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	want, requests := map[string]int{}, 0
	for _, tc := range []struct{ name, method, path, logged string }{
		{"Get", "GET", "/unsubscribe/" + token, "/unsubscribe/xxxxx"},
		{"Post", "POST", "/unsubscribe/" + token, "/unsubscribe/xxxxx"},
		{"NotAToken", "GET", "/unsubscribe/not-a-token-but-still-hidden", "/unsubscribe/xxxxx"},
		{"DoubleSlash", "GET", "//unsubscribe/" + token, "/unsubscribe/xxxxx"},
		{"DoubleSlashInside", "GET", "/unsubscribe//" + token, "/unsubscribe/xxxxx"},
		{"DotDot", "GET", "/x/../unsubscribe/" + token, "/unsubscribe/xxxxx"},
		{"Dot", "GET", "/./unsubscribe/" + token, "/unsubscribe/xxxxx"},
		{"Encoded", "GET", "/%75nsubscribe/" + token, "/unsubscribe/xxxxx"},
		{"UpperCase", "GET", "/UNSUBSCRIBE/" + token, "/UNSUBSCRIBE/xxxxx"},
		{"Deeper", "GET", "/x/unsubscribe/" + token + "/y", "/x/unsubscribe/xxxxx"},
		{"ConsoleLink", "GET", "/console/sign-in/" + token, "/console/sign-in/xxxxx"},
		{"ConsoleLinkPost", "POST", "/console/sign-in/" + token, "/console/sign-in/xxxxx"},
		// Addresses are personal data: the log keeps their domain.
		{"Person", "GET", "/console/people/pat@acme.test", "/console/people/xxxxx@acme.test"},
		{"Contact", "GET", "/api/v1/contacts/pat%40acme.test/deliveries", "/api/v1/contacts/xxxxx@acme.test/deliveries"},
		{"Member", "DELETE", "/api/v1/licenses/SEN-1/contacts/pat@acme.test", "/api/v1/licenses/SEN-1/contacts/xxxxx@acme.test"},
	} {
		res, err := client.Do(mustRequest(t, tc.method, b.URL+tc.path, "List-Unsubscribe=One-Click"))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		res.Body.Close()
		want["path="+tc.logged+" "]++
		requests++
	}
	// The request line is logged once the answer is written, which the
	// client may read first. One more: the license above.
	apptest.WaitFor(t, 10*time.Second, "every request in the debug log", func() bool {
		return strings.Count(log.String(), "msg=request ") == requests+1
	})
	for line, n := range want {
		if got := strings.Count(log.String(), line); got != n {
			t.Errorf("the log shows %q %d times, want %d", line, got, n)
		}
	}
	for _, secret := range []string{token, "not-a-token", "pat@"} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("the log shows the token %s:\n%s", secret, log.String())
		}
	}
	if t.Failed() {
		return
	}
	// Paths with no token are logged as they are.
	b.mustDo(t, http.StatusOK, request{method: "GET", path: "/healthz"})
	apptest.WaitFor(t, 10*time.Second, "the health check in the debug log", func() bool {
		return strings.Contains(log.String(), "path=/healthz ")
	})
}

func mustRequest(t *testing.T, method, url, form string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

// TestSlowClientsAreCutOff checks the mechanism with limits of a fraction
// of a second in place of herald's 10 s for headers and 30 s for a public
// page: a client that trickles its request loses the connection, while
// the API keeps its longer limit.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	b := &testBundle{apptest.Start(t, apptest.Options{API: true, HeaderTimeout: 100 * time.Millisecond, PageTimeout: 300 * time.Millisecond})}
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-1","product":"jira","name":"Acme","contacts":[{"email":"pat@acme.test","name":"Pat","role":"technical"}]}`})
	host := strings.TrimPrefix(b.URL, "http://")

	t.Run("SlowHeaders", func(t *testing.T) {
		conn := dial(t, host, "GET /healthz HTTP/1.1\r\nHost: herald\r\n")
		waitClosed(t, conn)
	})

	t.Run("SlowBodyOfAPublicPage", func(t *testing.T) {
		// The API request starts first: had it the page's limit, it
		// would be cut off first.
		api := dial(t, host, fmt.Sprintf("POST /api/v1/licenses HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"id\":", b.Token))
		page := dial(t, host, "POST /unsubscribe/"+unsubscribeToken(t, b.Bundle, "pat@acme.test")+" HTTP/1.1\r\nHost: herald\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nList-Unsub")
		waitClosed(t, page)
		if err := api.SetReadDeadline(time.Now().Add(50 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		var ne net.Error
		if _, err := api.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("the API request was cut off with the page's limit: read = %v", err)
		}
	})
}

// dial opens a connection to herald and sends the start of a request.
func dial(t *testing.T, host, start string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, start); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitClosed fails the test unless herald closes conn within a deadline
// far beyond the test's limits (and far below herald's own).
func waitClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := io.Copy(io.Discard, conn) // whatever herald answers, until it closes
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("herald still holds the connection of a client that sends slowly")
	}
}

// TestUnsubscribeLinksOfTheFirstFormat follows a link of the format herald
// sent before tokens were sealed (the address in base64, a dot, an HMAC of
// it under the secret itself): links already in mailboxes keep working.
func TestUnsubscribeLinksOfTheFirstFormat(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ctx := context.Background()
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-1","product":"jira","name":"Acme","contacts":[{"email":"pat@acme.test","name":"Pat","role":"technical"}]}`})
	secret, err := unsubscribe.Secret(ctx, b.DB, b.Config.Lists.Secret)
	if err != nil {
		t.Fatal(err)
	}
	payload := unsubscribe.CategoryAnnouncements + ":pat@acme.test"
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("herald unsubscribe v1\x00" + payload))
	enc := base64.RawURLEncoding
	link := b.URL + "/unsubscribe/" + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(mac.Sum(nil))

	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "pat@acme.test") {
		t.Fatalf("GET of a first-format link: %d\n%s", res.StatusCode, page)
	}
	if st := oneClick(t, link); st != http.StatusOK {
		t.Fatalf("one-click on a first-format link: %d", st)
	}
	if c, err := b.Contacts.GetContact(ctx, "pat@acme.test"); err != nil || !c.ReleaseOptOut {
		t.Errorf("pat is not opted out: %+v, %v", c, err)
	}
}

// BenchmarkSlowClientCutOff reports when herald cuts off a client that
// trickles the body of a public page, as a ratio of the page limit: about
// 1 means the limit holds, whatever the machine.
func BenchmarkSlowClientCutOff(b *testing.B) {
	const limit = 100 * time.Millisecond
	h := &testBundle{apptest.Start(b, apptest.Options{API: true, PageTimeout: limit})}
	host := strings.TrimPrefix(h.URL, "http://")
	var held time.Duration
	for b.Loop() {
		start := time.Now()
		conn, err := net.Dial("tcp", host)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.WriteString(conn, "POST /unsubscribe/x HTTP/1.1\r\nHost: herald\r\nContent-Length: 1000\r\n\r\nList-Unsub"); err != nil {
			b.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * limit))
		_, _ = io.Copy(io.Discard, conn)
		held += time.Since(start)
		conn.Close()
	}
	b.ReportMetric(float64(held)/float64(b.N)/float64(limit), "held/limit")
}

// TestUnsubscribedPageLinksToPreferences checks that a person who left
// release notices finds where to choose again.
func TestUnsubscribedPageLinksToPreferences(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-1","product":"jira","name":"Acme","contacts":[{"email":"pat@acme.test","name":"Pat","role":"technical"}]}`})
	res, err := http.DefaultClient.Do(mustRequest(t, "POST", b.URL+"/unsubscribe/"+unsubscribeToken(t, b.Bundle, "pat@acme.test"), "List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `<a href="/account/preferences">Choose which mail you receive</a>`) {
		t.Errorf("%d, no link to the preferences:\n%s", res.StatusCode, body)
	}
}
