package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/dbtest"
)

// TestAddressesDoNotMerge: an address is lowered in A-Z only, so the
// Kelvin sign (which Unicode lowers to k) is not kate@; it is refused, as
// every non-ASCII local part is, and changes nothing. Domains are checked
// by IDNA and stored as A-labels; IP domains are refused.
func TestAddressesDoNotMerge(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
			body: `{"email":"kate@acme.test","name":"Kate","role":"technical"}`})
		before := b.snapshot(t)

		kelvin := "\u212Aate@acme.test"
		for _, tc := range []struct {
			name  string
			req   request
			field string
		}{
			{"AddKelvin", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"` + kelvin + `","name":"Kelvin","role":"billing"}`}, "email"},
			{"CreateWithKelvin", request{method: "POST", path: "/api/v1/licenses",
				body: `{"id":"SEN-2","product":"jira","name":"Two","contacts":[{"email":"` + kelvin + `","role":"technical"}]}`}, "contacts[0].email"},
			{"IPLiteral", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"root@[127.0.0.1]","role":"billing"}`}, "email"},
			{"BareIP", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"root@127.0.0.1","role":"billing"}`}, "email"},
			{"HyphenLabel", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"eve@-bad-.test","role":"billing"}`}, "email"},
			{"MalformedPunycode", request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"eve@xn--.test","role":"billing"}`}, "email"},
			{"TestSendToKelvin", request{method: "POST", path: "/api/v1/broadcasts/test",
				body: `{"subject":"Hi","body":"Hi","to":["` + kelvin + `"]}`}, "to[0]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := b.mustDo(t, http.StatusBadRequest, tc.req)
				if code, field := res.apiError(t); code != "invalid" || field != tc.field {
					t.Errorf("error %q field %q, want invalid %q: %s", code, field, tc.field, res.body)
				}
				if after := b.snapshot(t); after != before {
					t.Errorf("the refused request changed the database:\n%s\nthen:\n%s", before, after)
				}
			})
		}

		t.Run("ImportKelvin", func(t *testing.T) {
			res := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv",
				body: "license_id,product,license_name,email,name,role,main\nSEN-1234,jira,Acme Corp," + kelvin + ",Kelvin,billing,false\n"})
			if !strings.Contains(string(res.body), "must be ASCII") {
				t.Errorf("import answer: %s", res.body)
			}
			if after := b.snapshot(t); after != before {
				t.Errorf("the refused import changed the database")
			}
		})

		t.Run("KelvinFindsNobody", func(t *testing.T) {
			b.mustDo(t, http.StatusNotFound, request{method: "GET", path: "/api/v1/contacts/" + url.PathEscape(kelvin)})
			kate := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/kate@acme.test"}).json(t)
			if kate["name"] != "Kate" || len(kate["memberships"].([]any)) != 1 {
				t.Errorf("kate@ after the refusals: %v", kate)
			}
		})

		t.Run("InternationalDomainIsStoredAsALabels", func(t *testing.T) {
			b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"Lee@BÜCHER.test","name":"Lee","role":"billing"}`})
			for _, spelling := range []string{"lee@bücher.test", "LEE@xn--bcher-kva.test"} {
				c := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/" + url.PathEscape(spelling)}).json(t)
				if c["email"] != "lee@xn--bcher-kva.test" {
					t.Errorf("GET %s: %v", spelling, c["email"])
				}
			}
			res := b.do(t, request{method: "POST", path: "/api/v1/licenses/SEN-1234/contacts",
				body: `{"email":"lee@xn--bcher-kva.test","role":"billing"}`})
			if res.status != http.StatusConflict {
				t.Errorf("the other spelling again = %d, want 409 (already a billing contact): %s", res.status, res.body)
			}
		})
	})
}
