package admin_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestReadyzNamesWhatFailsAndNothingMore: /readyz is public, so a failing
// dependency is named, without its address or error (those go to the log).
func TestReadyzNamesWhatFailsAndNothingMore(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name    string
		failing string
		// breaks makes the dependency fail and returns what must not show.
		breaks func(t *testing.T, b *testBundle, redis *miniredis.Miniredis) []string
	}{
		{"RedisGone", "redis", func(t *testing.T, b *testBundle, redis *miniredis.Miniredis) []string {
			host, port, _ := net.SplitHostPort(redis.Addr())
			redis.Close()
			return []string{host, port, "dial", "refused", "tcp"}
		}},
		{"DatabaseClosed", "database", func(t *testing.T, b *testBundle, _ *miniredis.Miniredis) []string {
			b.DB.Close()
			return []string{"sql", "closed", b.Config.Database.URL}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A Redis of the test's own, to stop it.
			redis := miniredis.RunT(t)
			b := &testBundle{apptest.Start(t, apptest.Options{API: true, Config: func(c *config.Config) {
				c.Queue.RedisURL = "redis://" + redis.Addr()
			}})}
			b.mustDo(t, http.StatusOK, request{method: "GET", path: "/readyz"})

			secrets := tc.breaks(t, b, redis)
			res := b.mustDo(t, http.StatusServiceUnavailable, request{method: "GET", path: "/readyz"})
			var body struct {
				Ready  bool
				Checks map[string]string
				SMTP   string
			}
			if err := json.Unmarshal(res.body, &body); err != nil {
				t.Fatal(err)
			}
			if body.Ready || body.Checks[tc.failing] != "failing" {
				t.Errorf("readyz = %s, want %s failing", res.body, tc.failing)
			}
			for name, v := range body.Checks {
				if v != "ok" && v != "failing" {
					t.Errorf("check %s = %q, want ok or failing", name, v)
				}
			}
			for _, s := range secrets {
				if strings.Contains(string(res.body), s) {
					t.Errorf("readyz shows %q: %s", s, res.body)
				}
			}
		})
	}
}

// TestSecurityHeaders: pages, JSON and errors alike carry the headers that
// keep browsers from sniffing, leaking the address (an unsubscribe token)
// and running or framing what herald did not mean to serve.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
	b.startWorkers(t)
	var rel struct {
		AnnouncementID int64 `json:"announcement_id"`
	}
	_ = json.Unmarshal(b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: `{"product":"jira","version":"1.0"}`}).body, &rel)
	b.WaitDone(t, rel.AnnouncementID)
	messages := b.SMTP.Messages()
	if len(messages) == 0 {
		t.Fatal("no release notice sent")
	}
	link := strings.TrimPrefix(unsubscribeURL(t, messages[0]), b.URL)

	none, wrong := "", "hrld_wrong"
	for _, tc := range []struct {
		name string
		req  request
		want int
	}{
		{"UnsubscribePage", request{method: "GET", path: link, token: &none}, http.StatusOK},
		{"UnsubscribeLinkNotValid", request{method: "GET", path: "/unsubscribe/forged", token: &none}, http.StatusNotFound},
		{"APINotFound", request{method: "GET", path: "/api/v1/licenses/SEN-NONE"}, http.StatusNotFound},
		{"NoRoute", request{method: "GET", path: "/nothing-here", token: &none}, http.StatusNotFound},
		{"NoAPIRoute", request{method: "GET", path: "/api/v1/nothing-here"}, http.StatusNotFound},
		{"WrongMethod", request{method: "DELETE", path: "/healthz", token: &none}, http.StatusMethodNotAllowed},
		{"Unauthorized", request{method: "GET", path: "/api/v1/licenses", token: &wrong}, http.StatusUnauthorized},
		{"JSONError", request{method: "POST", path: "/api/v1/licenses", body: `{"id":`}, http.StatusBadRequest},
		{"JSON", request{method: "GET", path: "/api/v1/licenses"}, http.StatusOK},
		{"Health", request{method: "GET", path: "/healthz", token: &none}, http.StatusOK},
		{"Ready", request{method: "GET", path: "/readyz", token: &none}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.mustDo(t, tc.want, tc.req)
			for header, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "no-referrer",
			} {
				if got := res.header.Get(header); got != want {
					t.Errorf("%s = %q, want %q", header, got, want)
				}
			}
			csp := parseCSP(res.header.Get("Content-Security-Policy"))
			if got := csp["frame-ancestors"]; len(got) != 1 || got[0] != "'none'" {
				t.Errorf("frame-ancestors = %q, want 'none'", got)
			}
			scripts, ok := csp["script-src"]
			if !ok {
				scripts, ok = csp["default-src"]
			}
			if !ok {
				t.Errorf("no script-src or default-src in %q", res.header.Get("Content-Security-Policy"))
			}
			for _, source := range scripts {
				if source == "'unsafe-inline'" || source == "'unsafe-eval'" || source == "*" || strings.HasSuffix(source, ":") {
					t.Errorf("the CSP lets script from %s run", source)
				}
			}
			if strings.Contains(strings.ToLower(string(res.body)), "<script") {
				t.Errorf("the page holds a script: %s", res.body)
			}
		})
	}
}

// parseCSP returns the directives of a Content-Security-Policy and their
// sources.
func parseCSP(policy string) map[string][]string {
	directives := map[string][]string{}
	for _, d := range strings.Split(policy, ";") {
		fields := strings.Fields(d)
		if len(fields) > 0 {
			directives[strings.ToLower(fields[0])] = fields[1:]
		}
	}
	return directives
}

// TestAdminTokenWorksWhileSet: HERALD_ADMIN_TOKEN opens the API while the
// variable holds it, and not once herald restarts without it.
func TestAdminTokenWorksWhileSet(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		first := setup(t, database)
		token := first.Token
		first.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/licenses"})
		if n, err := first.Tokens.Count(t.Context()); err != nil || n != 0 {
			t.Errorf("%d tokens stored (%v): HERALD_ADMIN_TOKEN must not be", n, err)
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}

		restart := func(adminToken string) *testBundle {
			return &testBundle{apptest.Start(t, apptest.Options{Database: database, DatabaseURL: first.Config.Database.URL, API: true,
				Config: func(c *config.Config) { c.HTTP.AdminToken = adminToken }})}
		}
		without := restart("")
		res := without.mustDo(t, http.StatusUnauthorized, request{method: "GET", path: "/api/v1/licenses", token: &token})
		if code, _ := res.apiError(t); code != "unauthorized" {
			t.Errorf("code = %s", code)
		}
		// With no token at all, that start made one for whoever runs it.
		if list, err := without.Tokens.List(t.Context()); err != nil || len(list) != 1 || list[0].Name != "initial" {
			t.Errorf("stored tokens after a start without any = %+v, %v; want the initial one", list, err)
		}
		if err := without.Close(); err != nil {
			t.Fatal(err)
		}

		again := restart(token)
		again.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/licenses", token: &token})
	})
}
