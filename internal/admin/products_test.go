package admin_test

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/dbtest"
)

// productList is the answer of GET /products.
type productList struct {
	Items []struct {
		Key         string  `json:"key"`
		Name        *string `json:"name"`
		DisplayName string  `json:"display_name"`
		Licenses    int     `json:"licenses"`
	} `json:"items"`
	Next *string `json:"next"`
}

func (b *testBundle) products(t *testing.T) string {
	t.Helper()
	var list productList
	if err := json.Unmarshal(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/products"}).body, &list); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range list.Items {
		name := "null"
		if p.Name != nil {
			name = *p.Name
		}
		out = append(out, p.Key+"="+name+"/"+p.DisplayName)
	}
	return strings.Join(out, " ")
}

func TestProducts(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})

		t.Run("BadInputIsRefusedAndChangesNothing", func(t *testing.T) {
			before := b.products(t)
			for _, tc := range []struct {
				name, path, body string
				contentType      string
				status           int
				field            string
			}{
				{"KeyWithSpace", "/api/v1/products/jira%20software", `{"name":"Jira Software"}`, "", 400, "key"},
				{"KeyWithSlash", "/api/v1/products/jira%2Fsoftware", `{"name":"Jira Software"}`, "", 400, "key"},
				{"KeyStartsWithDash", "/api/v1/products/-jira", `{"name":"Jira Software"}`, "", 400, "key"},
				{"KeyTooLong", "/api/v1/products/" + strings.Repeat("j", 65), `{"name":"Jira Software"}`, "", 400, "key"},
				{"KeyWithCRLF", "/api/v1/products/jira%0D%0ABcc:x", `{"name":"Jira Software"}`, "", 400, "key"},
				{"EmptyName", "/api/v1/products/jira", `{"name":""}`, "", 400, "name"},
				{"BlankName", "/api/v1/products/jira", `{"name":"   "}`, "", 400, "name"},
				{"NoName", "/api/v1/products/jira", `{}`, "", 400, "name"},
				{"NameTooLong", "/api/v1/products/jira", `{"name":"` + strings.Repeat("J", 201) + `"}`, "", 400, "name"},
				{"NameWithCRLF", "/api/v1/products/jira", `{"name":"Jira\r\nBcc: x@evil.test"}`, "", 400, "name"},
				{"NameWithControl", "/api/v1/products/jira", `{"name":"Jira\u0007"}`, "", 400, "name"},
				{"NameNotAString", "/api/v1/products/jira", `{"name":42}`, "", 400, "name"},
				{"UnknownField", "/api/v1/products/jira", `{"name":"Jira Software","key":"jira"}`, "", 400, "key"},
				{"TwoObjects", "/api/v1/products/jira", `{"name":"Jira Software"}{"name":"x"}`, "", 400, ""},
				{"NoBody", "/api/v1/products/jira", ``, "", 400, ""},
				{"NotJSON", "/api/v1/products/jira", `name=Jira`, "application/x-www-form-urlencoded", 415, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := b.mustDo(t, tc.status, request{method: "PUT", path: tc.path, body: tc.body, contentType: tc.contentType})
					if _, field := res.apiError(t); field != tc.field {
						t.Errorf("field %q, want %q: %s", field, tc.field, res.body)
					}
					if len(res.body) > 1000 {
						t.Errorf("the error is %d bytes long", len(res.body))
					}
					if after := b.products(t); after != before {
						t.Errorf("products %s after a refused PUT, were %s", after, before)
					}
				})
			}
		})

		t.Run("NameListGet", func(t *testing.T) {
			if got := b.products(t); got != "jira=null/jira" {
				t.Errorf("products before naming: %s", got)
			}
			res := b.mustDo(t, http.StatusCreated, request{method: "PUT", path: "/api/v1/products/JIRA", body: `{"name":" Jira Software "}`}).json(t)
			want := map[string]any{"key": "jira", "name": "Jira Software", "display_name": "Jira Software", "licenses": 1.0}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("PUT answer (-want +got):\n%s", diff)
			}
			b.mustDo(t, http.StatusOK, request{method: "PUT", path: "/api/v1/products/jira", body: `{"name":"Jira Software"}`})
			b.mustDo(t, http.StatusCreated, request{method: "PUT", path: "/api/v1/products/bamboo", body: `{"name":"Bamboo"}`})
			if got := b.products(t); got != "bamboo=Bamboo/Bamboo jira=Jira Software/Jira Software" {
				t.Errorf("products: %s", got)
			}
			got := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/products/jira"}).json(t)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GET (-want +got):\n%s", diff)
			}
			b.mustDo(t, http.StatusNotFound, request{method: "GET", path: "/api/v1/products/confluence"})
			if _, field := b.mustDo(t, http.StatusBadRequest, request{method: "GET", path: "/api/v1/products/no%20such"}).apiError(t); field != "key" {
				t.Errorf("GET of a bad key names field %q", field)
			}
			page := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/products?limit=1"}).json(t)
			if items := page["items"].([]any); len(items) != 1 || page["next"] == nil {
				t.Errorf("first page of one: %v", page)
			}
		})

		t.Run("CSVCarriesTheName", func(t *testing.T) {
			export := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/export"})
			lines := strings.Split(strings.TrimSpace(string(export.body)), "\n")
			if lines[0] != "license_id,product,license_name,email,name,role,main,product_name" || !strings.HasSuffix(lines[1], ",Jira Software") {
				t.Errorf("export:\n%s", export.body)
			}
			res := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv",
				body: "license_id,product,license_name,email,name,role,main,product_name\nSEN-9,confluence,Nine,nine@nine.test,Nine,technical,true,Confluence\n"}).json(t)
			if res["products_named"] != 1.0 {
				t.Errorf("import: %v", res)
			}
			if got := b.products(t); got != "bamboo=Bamboo/Bamboo confluence=Confluence/Confluence jira=Jira Software/Jira Software" {
				t.Errorf("products after the import: %s", got)
			}
		})
	})
}

func TestReleaseUsesTheProductName(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.startWorkers(t)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses",
			body: `{"id":"SEN-2","product":"confluence","name":"Beta","contacts":[{"email":"dee@beta.test","name":"Dee","role":"technical"}]}`})
		b.mustDo(t, http.StatusCreated, request{method: "PUT", path: "/api/v1/products/jira", body: `{"name":"Jira Software"}`})
		b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/contacts/bob@acme.test", body: `{"locale":"de"}`})

		for _, tc := range []struct {
			name, body string
			// title is the release's title, in the API and as the
			// announcement's subject.
			title string
			// product is what the HTML part calls the product.
			product string
			// want is what each recipient's subject and text say.
			want map[string][2]string
		}{
			{"DefaultTitle", `{"product":"jira","version":"9.4.1"}`, "Jira Software 9.4.1", "Jira Software 9.4.1", map[string][2]string{
				"ann@acme.test": {"Jira Software 9.4.1 is available", "\nJira Software 9.4.1 has been released."},
				"bob@acme.test": {"Jira Software 9.4.1 ist verfügbar", "\nJira Software 9.4.1 ist erschienen."},
			}},
			{"OwnTitle", `{"product":"jira","version":"9.5.0","title":"Jira 9.5"}`, "Jira 9.5", "(Jira Software 9.5.0)", map[string][2]string{
				"ann@acme.test": {"Jira 9.5 is available", "\nJira 9.5 (Jira Software 9.5.0) has been released."},
				"bob@acme.test": {"Jira 9.5 ist verfügbar", "\nJira 9.5 (Jira Software 9.5.0) ist erschienen."},
			}},
			{"NoNameFallsBackToTheKey", `{"product":"confluence","version":"8.0"}`, "confluence 8.0", "confluence 8.0", map[string][2]string{
				"dee@beta.test": {"confluence 8.0 is available", "\nconfluence 8.0 has been released."},
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(b.SMTP.Messages())
				res := b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: tc.body}).json(t)
				a := b.WaitDone(t, int64(res["announcement_id"].(float64)))
				if title := res["release"].(map[string]any)["title"]; title != tc.title || a.Subject != tc.title {
					t.Errorf("release title %q, announcement subject %q; want %q in both", title, a.Subject, tc.title)
				}
				got := map[string][2]string{}
				for _, m := range b.SMTP.Messages()[before:] {
					subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
					if err != nil {
						t.Fatal(err)
					}
					text, html := m.MustParts(t)
					want := tc.want[m.To[0]]
					if !strings.Contains(text, want[1]) {
						t.Errorf("%s: text lacks %q:\n%s", m.To[0], want[1], text)
					}
					if !strings.Contains(html, tc.product) {
						t.Errorf("%s: HTML does not name the product:\n%s", m.To[0], html)
					}
					got[m.To[0]] = [2]string{subject, want[1]}
				}
				wantSubjects := map[string][2]string{}
				for to, w := range tc.want {
					wantSubjects[to] = w
				}
				if diff := cmp.Diff(wantSubjects, got); diff != "" {
					t.Errorf("subjects (-want +got):\n%s", diff)
				}
			})
		}
	})
}
