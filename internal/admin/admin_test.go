package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// testBundle is herald serving its API for one test, with helpers to call
// it.
type testBundle struct {
	*apptest.Bundle
}

func setup(t *testing.T, database dbtest.Database) *testBundle {
	t.Helper()
	return &testBundle{apptest.Start(t, apptest.Options{Database: database, API: true})}
}

// startWorkers runs the workers, so that what the API starts is sent.
func (b *testBundle) startWorkers(t *testing.T) {
	t.Helper()
	if err := b.StartWorkers(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// response is what a test looks at of an answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return v
}

// apiError returns the error object of an error response.
func (r response) apiError(t *testing.T) (code, field string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("error without a message: %s", r.body)
	}
	field, _ = e["field"].(string)
	code, _ = e["code"].(string)
	return code, field
}

type request struct {
	method, path string
	body         string
	contentType  string // default application/json when there is a body
	token        *string
}

func (b *testBundle) do(t *testing.T, req request) response {
	t.Helper()
	r, err := http.NewRequest(req.method, b.URL+req.path, strings.NewReader(req.body))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case req.contentType != "":
		r.Header.Set("Content-Type", req.contentType)
	case req.body != "":
		r.Header.Set("Content-Type", "application/json")
	}
	token := b.Token
	if req.token != nil {
		token = *req.token
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

func (b *testBundle) mustDo(t *testing.T, want int, req request) response {
	t.Helper()
	res := b.do(t, req)
	if res.status != want {
		t.Fatalf("%s %s = %d, want %d: %s", req.method, req.path, res.status, want, res.body)
	}
	return res
}

// snapshot is everything the API can change, to show that a refused
// request changed nothing.
func (b *testBundle) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	cw := contacts.NewCSVWriter(&buf)
	if err := b.Contacts.Export(ctx, cw.Write); err != nil {
		t.Fatal(err)
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	var people []struct {
		Email, Name, Locale string
		OptOut              bool `db:"release_opt_out"`
	}
	if err := db.Select(ctx, b.DB, &people, `SELECT email, name, locale, release_opt_out FROM contacts ORDER BY email`); err != nil {
		t.Fatal(err)
	}
	var licenses []struct{ ID, Status, Timezone string }
	if err := db.Select(ctx, b.DB, &licenses, `SELECT id, status, timezone FROM licenses ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s\n%+v\n%+v", buf.String(), people, licenses)
}

const acme = `{"id":"SEN-1234","product":"jira","name":"Acme Corp","timezone":"Europe/Berlin","contacts":[
	{"email":"ann@acme.test","name":"Ann","role":"technical"},
	{"email":"bob@acme.test","name":"Bob","role":"technical"},
	{"email":"cy@acme.test","name":"Cy","role":"billing"}]}`

func TestLicenseLifecycle(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)

		res := b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		if loc := res.header.Get("Location"); loc != "/api/v1/licenses/SEN-1234" {
			t.Errorf("Location = %q", loc)
		}
		var view struct {
			ID, Product, Name, Status, Timezone string
			Technical                           []struct {
				Email, Name string
				Main        bool
			} `json:"technical_contacts"`
			Billing []struct {
				Email string
				Main  bool
			} `json:"billing_contacts"`
			CreatedAt time.Time `json:"created_at"`
		}
		decode := func(res response) {
			t.Helper()
			if err := json.Unmarshal(res.body, &view); err != nil {
				t.Fatal(err)
			}
		}
		decode(res)
		if view.Status != "active" || view.Timezone != "Europe/Berlin" || len(view.Technical) != 2 || !view.Technical[0].Main ||
			view.Technical[0].Email != "ann@acme.test" || view.Technical[1].Main || len(view.Billing) != 1 || !view.Billing[0].Main {
			t.Fatalf("created license view: %s", res.body)
		}
		if view.CreatedAt.IsZero() || view.CreatedAt.Location() != time.UTC {
			t.Errorf("created_at = %v, want a UTC time", view.CreatedAt)
		}

		t.Run("DuplicateIsConflict", func(t *testing.T) {
			res := b.mustDo(t, http.StatusConflict, request{method: "POST", path: "/api/v1/licenses", body: acme})
			if code, _ := res.apiError(t); code != "conflict" {
				t.Errorf("code = %s", code)
			}
		})

		t.Run("PromoteThenRemoveTheFormerMain", func(t *testing.T) {
			res := b.mustDo(t, http.StatusConflict, request{method: "DELETE", path: "/api/v1/licenses/SEN-1234/contacts/ann@acme.test?role=technical"})
			if msg := res.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "promote another technical contact") {
				t.Errorf("409 message does not advise promoting another: %q", msg)
			}
			decode(b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts/bob@acme.test/promote", body: `{"role":"technical"}`}))
			if view.Technical[0].Email != "bob@acme.test" || !view.Technical[0].Main || view.Technical[1].Main {
				t.Fatalf("after promote: %+v", view.Technical)
			}
			decode(b.mustDo(t, http.StatusOK, request{method: "DELETE", path: "/api/v1/licenses/SEN-1234/contacts/ann@acme.test?role=technical"}))
			if len(view.Technical) != 1 || view.Technical[0].Email != "bob@acme.test" {
				t.Fatalf("after remove: %+v", view.Technical)
			}
			b.mustDo(t, http.StatusConflict, request{method: "DELETE", path: "/api/v1/licenses/SEN-1234/contacts/bob@acme.test?role=technical"})
		})

		t.Run("AddContactAsMain", func(t *testing.T) {
			decode(b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"Dee@Acme.test","name":"Dee","role":"billing","main":true}`}))
			if len(view.Billing) != 2 || view.Billing[0].Email != "dee@acme.test" || !view.Billing[0].Main || view.Billing[1].Main {
				t.Fatalf("billing after add: %+v", view.Billing)
			}
			b.mustDo(t, http.StatusConflict, request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"dee@acme.test","role":"billing"}`})
		})

		t.Run("PatchAndGet", func(t *testing.T) {
			b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/licenses/SEN-1234", body: `{"status":"expired","name":"Acme AG"}`})
			decode(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/licenses/SEN-1234"}))
			if view.Status != "expired" || view.Name != "Acme AG" || view.Product != "jira" {
				t.Errorf("after patch: %+v", view)
			}
		})

		t.Run("ContactView", func(t *testing.T) {
			res := b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/BOB@acme.test", body: `{"locale":"de","release_opt_out":true}`})
			var c struct {
				Email, Locale string
				OptOut        bool `json:"release_opt_out"`
				Memberships   []struct {
					LicenseID string `json:"license_id"`
					Product   string
					Role      string
					Main      bool
				}
			}
			if err := json.Unmarshal(res.body, &c); err != nil {
				t.Fatal(err)
			}
			if c.Email != "bob@acme.test" || c.Locale != "de" || !c.OptOut || len(c.Memberships) != 1 ||
				c.Memberships[0].LicenseID != "SEN-1234" || c.Memberships[0].Product != "jira" || c.Memberships[0].Role != "technical" || !c.Memberships[0].Main {
				t.Errorf("contact view: %s", res.body)
			}
			list := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts?q=bob"}).json(t)
			if items := list["items"].([]any); len(items) != 1 || list["next"] != nil {
				t.Errorf("GET /contacts?q=bob = %v", list)
			}
		})

		t.Run("ListPages", func(t *testing.T) {
			for i := range 4 {
				b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses",
					body: fmt.Sprintf(`{"id":"P-%d","product":"bamboo","name":"Page %d"}`, i, i)})
			}
			var ids []string
			path := "/api/v1/licenses?product=bamboo&limit=3"
			for path != "" {
				page := b.mustDo(t, http.StatusOK, request{method: "GET", path: path}).json(t)
				for _, item := range page["items"].([]any) {
					ids = append(ids, item.(map[string]any)["id"].(string))
				}
				path = ""
				if next, ok := page["next"].(string); ok {
					path = "/api/v1/licenses?product=bamboo&limit=3&after=" + next
				}
			}
			if strings.Join(ids, ",") != "P-0,P-1,P-2,P-3" {
				t.Errorf("paged ids = %v", ids)
			}
		})

		t.Run("Delete", func(t *testing.T) {
			b.mustDo(t, http.StatusNoContent, request{method: "DELETE", path: "/api/v1/licenses/SEN-1234"})
			b.mustDo(t, http.StatusNotFound, request{method: "GET", path: "/api/v1/licenses/SEN-1234"})
			b.mustDo(t, http.StatusNotFound, request{method: "DELETE", path: "/api/v1/licenses/SEN-1234"})
		})
	})
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
	before := b.snapshot(t)

	none, wrong, revoked := "", "hrld_not-a-token", ""
	var err error
	if revoked, err = b.Tokens.Create(context.Background(), "old", contacts.Actor{Via: contacts.ViaCLI, Name: "test"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Tokens.Revoke(context.Background(), "old", contacts.Actor{Via: contacts.ViaCLI, Name: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token *string
	}{{"NoToken", &none}, {"WrongToken", &wrong}, {"RevokedToken", &revoked}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, req := range []request{
				{method: "GET", path: "/api/v1/licenses"},
				{method: "GET", path: "/api/v1/licenses/SEN-1234"},
				{method: "DELETE", path: "/api/v1/licenses/SEN-1234"},
				{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts", body: `{"email":"x@acme.test","role":"billing"}`},
				{method: "GET", path: "/api/v1/contacts/export"},
			} {
				req.token = tc.token
				res := b.mustDo(t, http.StatusUnauthorized, req)
				if code, _ := res.apiError(t); code != "unauthorized" {
					t.Errorf("%s %s: code %s", req.method, req.path, code)
				}
				if res.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: no WWW-Authenticate header", req.method, req.path)
				}
			}
		})
	}
	if after := b.snapshot(t); after != before {
		t.Errorf("unauthorized requests changed the database:\n%s\nthen:\n%s", before, after)
	}

	t.Run("PublicRoutes", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"} {
			b.mustDo(t, http.StatusOK, request{method: "GET", path: path, token: &none})
		}
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		before := b.snapshot(t)

		huge := `{"id":"SEN-9","product":"jira","name":"` + strings.Repeat("x", 1<<20) + `"}`
		for _, tc := range []struct {
			name   string
			req    request
			status int
			code   string
			field  string
		}{
			{"MalformedJSON", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9",`}, 400, "invalid", ""},
			{"NotAnObject", request{method: "POST", path: "/api/v1/licenses", body: `["SEN-9"]`}, 400, "invalid", ""},
			{"TrailingData", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9","product":"jira","name":"N"} {}`}, 400, "invalid", ""},
			{"EmptyBody", request{method: "POST", path: "/api/v1/licenses", contentType: "application/json"}, 400, "invalid", ""},
			{"UnknownField", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9","product":"jira","name":"N","owner":"x"}`}, 400, "invalid", "owner"},
			{"WrongType", request{method: "POST", path: "/api/v1/licenses", body: `{"id":9,"product":"jira","name":"N"}`}, 400, "invalid", "id"},
			{"MissingID", request{method: "POST", path: "/api/v1/licenses", body: `{"product":"jira","name":"N"}`}, 400, "invalid", "id"},
			{"MissingName", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9","product":"jira"}`}, 400, "invalid", "name"},
			{"InvalidEmail", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9","product":"jira","name":"N","contacts":[{"email":"ann(at)acme","role":"technical"}]}`}, 400, "invalid", "contacts[0].email"},
			{"NULInName", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9","product":"jira","name":"N\u0000"}`}, 400, "invalid", "name"},
			{"NULInNestedName", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9","product":"jira","name":"N","contacts":[{"email":"eve@acme.test","role":"technical"},{"email":"x@acme.test","name":"\u0000","role":"billing"}]}`}, 400, "invalid", "contacts[1].name"},
			{"NotUTF8InName", request{method: "POST", path: "/api/v1/licenses", body: "{\"id\":\"SEN-9\",\"product\":\"jira\",\"name\":\"bad\xff\xfeutf\"}"}, 400, "invalid", "name"},
			{"CRLFInLicenseName", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9","product":"jira","name":"N\r\nBcc: x@evil.test"}`}, 400, "invalid", "name"},
			{"BidiOverrideInName", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts", body: `{"email":"eve@acme.test","name":"Eve \u202egnp.exe","role":"billing"}`}, 400, "invalid", "name"},
			{"BidiOverrideInProductName", request{method: "PUT", path: "/api/v1/products/jira", body: `{"name":"Jira \u2067Software"}`}, 400, "invalid", "name"},
			{"CRLFInContactName", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts", body: `{"email":"eve@acme.test","name":"Eve\r\nBcc: x@evil.test","role":"billing"}`}, 400, "invalid", "name"},
			{"CRLFInEmail", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts", body: `{"email":"eve@acme.test\r\nBcc: x@evil.test","role":"billing"}`}, 400, "invalid", "email"},
			{"CRLFInPatch", request{method: "PATCH", path: "/api/v1/contacts/ann@acme.test", body: `{"name":"Ann\nX-Evil: 1"}`}, 400, "invalid", "name"},
			{"MissingRole", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts", body: `{"email":"eve@acme.test"}`}, 400, "invalid", "role"},
			{"BadStatusPatch", request{method: "PATCH", path: "/api/v1/licenses/SEN-1234", body: `{"status":"gone"}`}, 400, "invalid", "status"},
			{"BadPromoteRole", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts/ann@acme.test/promote", body: `{"role":"boss"}`}, 400, "invalid", "role"},
			{"BadLimit", request{method: "GET", path: "/api/v1/licenses?limit=1000"}, 400, "invalid", "limit"},
			{"BadCursor", request{method: "GET", path: "/api/v1/licenses?after=%25%25"}, 400, "invalid", "after"},
			{"OversizedBody", request{method: "POST", path: "/api/v1/licenses", body: huge}, 413, "too_large", ""},
			{"WrongContentType", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-9","product":"jira","name":"N"}`, contentType: "text/plain"}, 415, "unsupported_media_type", ""},
			{"JSONToImport", request{method: "POST", path: "/api/v1/contacts/import", body: `{}`}, 415, "unsupported_media_type", ""},
			{"UnknownLicense", request{method: "GET", path: "/api/v1/licenses/SEN-404"}, 404, "not_found", ""},
			{"AddToUnknownLicense", request{method: "POST", path: "/api/v1/licenses/SEN-404/contacts", body: `{"email":"eve@acme.test","role":"billing"}`}, 404, "not_found", ""},
			{"PromoteNonMember", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts/eve@acme.test/promote", body: `{"role":"billing"}`}, 404, "not_found", ""},
			{"UnknownContact", request{method: "GET", path: "/api/v1/contacts/nobody@acme.test"}, 404, "not_found", ""},
			{"UnknownRoute", request{method: "GET", path: "/api/v1/nothing"}, 404, "not_found", ""},
			{"WrongMethod", request{method: "PUT", path: "/api/v1/licenses/SEN-1234", body: `{}`}, 405, "method_not_allowed", ""},
			{"RemoveMain", request{method: "DELETE", path: "/api/v1/licenses/SEN-1234/contacts/ann@acme.test?role=technical"}, 409, "conflict", ""},
			{"RemoveLastBilling", request{method: "DELETE", path: "/api/v1/licenses/SEN-1234/contacts/cy@acme.test?role=billing"}, 409, "conflict", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := b.mustDo(t, tc.status, tc.req)
				if ct := res.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				code, field := res.apiError(t)
				if code != tc.code || field != tc.field {
					t.Errorf("error code %q field %q, want %q %q: %s", code, field, tc.code, tc.field, res.body)
				}
				if after := b.snapshot(t); after != before {
					t.Errorf("the refused request changed the database:\n%s\nthen:\n%s", before, after)
				}
			})
		}
	})
}

func TestImportExportOverHTTP(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		csv := "license_id,product,license_name,email,name,role,main\n" +
			"SEN-1,jira,Acme,ann@acme.test,Ann,technical,true\n" +
			"SEN-1,jira,Acme,bob@acme.test,Bob,billing,true\n" +
			"SEN-2,jira,Beta,ann@acme.test,Ann,billing,true\n"

		res := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/contacts/import", body: csv, contentType: "text/csv"}).json(t)
		if res["licenses_created"] != 2.0 || res["contacts_created"] != 2.0 || res["memberships_created"] != 3.0 || res["unchanged"] != 0.0 {
			t.Errorf("import result = %v", res)
		}
		exported := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/export"})
		if ct := exported.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("export Content-Type = %q", ct)
		}
		again := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/contacts/import", body: string(exported.body), contentType: "text/csv; charset=utf-8"}).json(t)
		if again["unchanged"] != 3.0 || again["memberships_created"] != 0.0 {
			t.Errorf("re-import of the export = %v", again)
		}

		before := b.snapshot(t)
		bad := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv",
			body: "license_id,product,license_name,email,name,role,main\nSEN-3,jira,New,cy@acme.test,Cy,technical,true\nSEN-3,jira,New,bad,Cy,technical,false\n"})
		var body struct {
			Error struct{ Code string }
			Lines []struct {
				Line    int
				Message string
			}
		}
		if err := json.Unmarshal(bad.body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Error.Code != "invalid" || len(body.Lines) != 1 || body.Lines[0].Line != 3 || !strings.Contains(body.Lines[0].Message, "email") {
			t.Errorf("bad import answer: %s", bad.body)
		}
		if after := b.snapshot(t); after != before {
			t.Errorf("a refused import changed the database:\n%s\nthen:\n%s", before, after)
		}
	})
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	b.mustDo(t, http.StatusOK, request{method: "GET", path: "/readyz"})
	b.DB.Close()
	res := b.mustDo(t, http.StatusServiceUnavailable, request{method: "GET", path: "/readyz"})
	if checks := res.json(t)["checks"].(map[string]any); checks["database"] == "ok" {
		t.Errorf("readyz with a closed database: %s", res.body)
	}
}
