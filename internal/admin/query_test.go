package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// queryFixtures makes one of everything a GET route can name in its path,
// and returns the values of the path parameters by route prefix.
func queryFixtures(t *testing.T, b *testBundle) (announcementID int64, template string) {
	t.Helper()
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
	var rel struct {
		AnnouncementID int64 `json:"announcement_id"`
	}
	res := b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases",
		body: `{"product":"jira","version":"9.4.0","send_at":"2100-01-01T00:00:00Z"}`})
	if err := json.Unmarshal(res.body, &rel); err != nil {
		t.Fatal(err)
	}
	b.mustDo(t, http.StatusCreated, request{method: "PUT", path: "/api/v1/invoices/INV-1",
		body: `{"license_id":"SEN-1234","amount_minor":5,"currency":"EUR","due_date":"2026-12-15"}`})
	var templates struct {
		Items []struct{ Name string }
	}
	if err := json.Unmarshal(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/templates"}).body, &templates); err != nil || len(templates.Items) == 0 {
		t.Fatalf("templates: %v %v", templates, err)
	}
	return rel.AnnouncementID, templates.Items[0].Name
}

// TestHostileQueryStrings sends every GET route of the served OpenAPI
// document (which a test keeps equal to the route table, so a new route is
// covered here without a word) query strings meant to break it: unknown,
// repeated, malformed, huge, invalid UTF-8, NUL. None may be a 5xx; under
// /api/ an unknown parameter is a 400 naming it.
func TestHostileQueryStrings(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		announcement, template := queryFixtures(t, b)

		doc, err := openapi3.NewLoader().LoadFromData(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/openapi.json"}).body)
		if err != nil {
			t.Fatal(err)
		}
		pathValue := func(pattern, name string) string {
			switch {
			case name == "id" && strings.HasPrefix(pattern, "/api/v1/licenses/"):
				return "SEN-1234"
			case name == "id":
				return fmt.Sprint(announcement)
			case name == "email":
				return "ann@acme.test"
			case name == "number":
				return "INV-1"
			case name == "name":
				return template
			default:
				return "x" // a token: refused by its handler, which still reads the query
			}
		}

		huge := strings.Repeat("x", 60_000)
		values := []string{
			"", "0", "-1", "1.5", "1e3", "99999999999999999999", "abc", "é", "K",
			"%ff", "%00", "a%00b", "%c3%28", "%e2%82", "%25", "_", "%5C", "' OR 1=1 --", "%0d%0aX: y",
			huge, url.QueryEscape(strings.Repeat("%_", 30_000)), url.QueryEscape(strings.Repeat("é", 20_000)),
		}
		malformed := []string{"%zz", "a=%", "a;b=1", "&&&", "=x", "%00=1", "%ff=1", huge + "=1"}

		var routes int
		for _, pattern := range doc.Paths.InMatchingOrder() {
			item := doc.Paths.Value(pattern)
			op := item.Get
			if op == nil {
				continue
			}
			routes++
			path := pattern
			var params []string
			for _, p := range slices.Concat(item.Parameters, op.Parameters) {
				switch p.Value.In {
				case openapi3.ParameterInPath:
					path = strings.ReplaceAll(path, "{"+p.Value.Name+"}", url.PathEscape(pathValue(pattern, p.Value.Name)))
				case openapi3.ParameterInQuery:
					params = append(params, p.Value.Name)
				}
			}
			api := strings.HasPrefix(pattern, "/api/")

			var queries []string
			for _, name := range params {
				for _, v := range values {
					queries = append(queries, name+"="+v)
				}
				queries = append(queries, name+"=1&"+name+"=2", name+"="+huge+"&"+name+"="+huge)
			}
			queries = append(queries, malformed...)
			queries = append(queries, "zzz=1", strings.Join(params, "=1&")+"=1&zzz=1")

			t.Run(strings.ReplaceAll(pattern, "/", "_"), func(t *testing.T) {
				for _, q := range queries {
					res := b.do(t, request{method: "GET", path: path + "?" + q})
					shown := q
					if len(shown) > 80 {
						shown = shown[:80] + "…"
					}
					if res.status >= 500 {
						t.Errorf("GET %s?%s = %d: %.300s", path, shown, res.status, res.body)
					}
				}
				if !api {
					return
				}
				res := b.do(t, request{method: "GET", path: path + "?zzz=1"})
				if res.status != http.StatusBadRequest {
					t.Fatalf("GET %s?zzz=1 = %d, want 400: %s", path, res.status, res.body)
				}
				if _, field := res.apiError(t); field != "zzz" {
					t.Errorf("GET %s?zzz=1: field %q, want zzz", path, field)
				}
			})
		}
		if routes < 15 {
			t.Fatalf("the document lists %d GET routes; it was not read right", routes)
		}
	})
}

// TestQueryValidation: query parameters are refused as body fields are,
// with a 400 naming the parameter, and change nothing.
func TestQueryValidation(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		announcement, template := queryFixtures(t, b)
		deliveries := fmt.Sprintf("/api/v1/announcements/%d/deliveries", announcement)
		before := b.snapshot(t)

		for _, tc := range []struct {
			name, method, path, field string
		}{
			{"Unknown", "GET", "/api/v1/contacts?qq=ann", "qq"},
			{"UnknownOnARouteWithout", "GET", "/api/v1/relay?verbose=1", "verbose"},
			{"UnknownOnDelete", "DELETE", "/api/v1/licenses/SEN-1234/contacts/bob@acme.test?role=technical&force=1", "force"},
			{"Repeated", "GET", "/api/v1/invoices?status=open&status=paid", "status"},
			{"HugeName", "GET", "/api/v1/contacts?" + strings.Repeat("q", 100_000) + "=1", ""},
			{"Malformed", "GET", "/api/v1/contacts?q=%zz", ""},
			{"NotANumber", "GET", "/api/v1/contacts?limit=ten", "limit"},
			{"HugeNumber", "GET", "/api/v1/contacts?limit=99999999999999999999", "limit"},
			{"LimitOutOfRange", "GET", "/api/v1/announcements?limit=0", "limit"},
			{"HugeCursor", "GET", "/api/v1/contacts?after=" + strings.Repeat("YQ", 1000), "after"},
			{"LongSearch", "GET", "/api/v1/contacts?q=" + strings.Repeat("a", 201), "q"},
			{"HugeSearch", "GET", "/api/v1/licenses?q=" + strings.Repeat("a", 50_000), "q"},
			{"LikeBomb", "GET", "/api/v1/licenses?q=" + url.QueryEscape(strings.Repeat("%_", 101)), "q"},
			{"BadLicenseStatus", "GET", "/api/v1/licenses?status=gone", "status"},
			{"BadProduct", "GET", "/api/v1/licenses?product=Jira%20Software", "product"},
			{"BadReleaseProduct", "GET", "/api/v1/releases?product=" + strings.Repeat("j", 65), "product"},
			{"BadLicenseID", "GET", "/api/v1/invoices?license_id=SEN%201234", "license_id"},
			{"BadDeliveryEmail", "GET", deliveries + "?email=ann(at)acme.test", "email"},
			{"EmptyDeliveryEmail", "GET", deliveries + "?email=", "email"},
			{"EmptySuppressionEmail", "GET", "/api/v1/suppressions?email=%20", "email"},
			{"BadSuppressionEmail", "GET", "/api/v1/suppressions?email=" + strings.Repeat("a", 300), "email"},
			{"BadLocale", "POST", "/api/v1/templates/" + template + "/preview?locale=not_a_locale!", "locale"},
			{"BadRole", "DELETE", "/api/v1/licenses/SEN-1234/contacts/bob@acme.test?role=boss", "role"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := b.mustDo(t, http.StatusBadRequest, request{method: tc.method, path: tc.path})
				if len(res.body) > 1024 {
					t.Errorf("a %d-byte answer repeats the request: %.200s…", len(res.body), res.body)
				}
				if code, field := res.apiError(t); code != "invalid" || field != tc.field {
					t.Errorf("error %q field %q, want invalid %q: %.300s", code, field, tc.field, res.body)
				}
				if after := b.snapshot(t); after != before {
					t.Errorf("the refused request changed the database")
				}
			})
		}

		t.Run("Accepted", func(t *testing.T) {
			for _, path := range []string{
				"/api/v1/contacts?q=" + strings.Repeat("a", 200),
				"/api/v1/contacts?q=" + strings.Repeat("é", 200),
				"/api/v1/contacts?q=&limit=",
				"/api/v1/licenses?product=JIRA&status=active&q=acme&limit=500",
				"/api/v1/invoices?license_id=SEN-1234&status=open",
				deliveries + "?status=pending&email=ann@acme.test",
			} {
				b.mustDo(t, http.StatusOK, request{method: "GET", path: path})
			}
		})
	})
}

// TestDeliveriesByEmail: ?email= selects the delivery to that address and
// no other, matched as contacts are (A-Z in any case).
func TestDeliveriesByEmail(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		announcement, _ := queryFixtures(t, b)
		ctx := context.Background()
		now := time.Now().UTC()
		// Deliveries as a fan-out makes them; one to an address stored by
		// an earlier herald, with its domain in Unicode.
		for i, email := range []string{"ann@acme.test", "anna@acme.test", "bob@acme.test", "ann@bücher.test"} {
			if _, err := db.Exec(ctx, b.DB, `INSERT INTO deliveries (announcement_id, email, chunk, status, next_attempt_at, created_at, updated_at)
				VALUES (?, ?, 0, 'pending', ?, ?, ?)`, announcement, email, now, now, now); err != nil {
				t.Fatalf("delivery %d: %v", i, err)
			}
		}
		list := func(email string) []string {
			t.Helper()
			var page struct{ Items []struct{ Email string } }
			res := b.mustDo(t, http.StatusOK, request{method: "GET", path: fmt.Sprintf("/api/v1/announcements/%d/deliveries?email=%s", announcement, url.QueryEscape(email))})
			if err := json.Unmarshal(res.body, &page); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range page.Items {
				got = append(got, d.Email)
			}
			return got
		}
		for _, tc := range []struct {
			email string
			want  []string
		}{
			{"ann@acme.test", []string{"ann@acme.test"}},
			{"ANN@Acme.TEST", []string{"ann@acme.test"}},
			{"nobody@acme.test", nil},
			{"\u212Aate@acme.test", nil},                            // not folded into kate@
			{"ann@xn--bcher-kva.test", []string{"ann@bücher.test"}}, // either spelling of the domain
			{"ann@BÜCHER.test", []string{"ann@bücher.test"}},
		} {
			if got := list(tc.email); !slices.Equal(got, tc.want) {
				t.Errorf("?email=%s: %v, want %v", tc.email, got, tc.want)
			}
		}
	})
}
