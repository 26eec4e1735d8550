package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/fault"
)

// queryOf says which query parameters each route of the API accepts, keyed
// by "METHOD pattern" as in the route table; a route that is not listed
// accepts none. A query string is checked like a body: a parameter the
// route does not know, or one given twice, is refused rather than ignored,
// so that a typo (?stauts=failed) is not silently a list of everything.
// The OpenAPI test keeps this in step with the documented parameters.
var queryOf = map[string][]string{
	"GET /api/v1/licenses":                          {"limit", "after", "product", "status", "q"},
	"DELETE /api/v1/licenses/{id}/contacts/{email}": {"role"},
	"GET /api/v1/licenses/{id}/audit":               {"limit", "after", "email", "via"},
	"GET /api/v1/audit":                             {"limit", "after", "license_id", "email", "via"},
	"GET /api/v1/contacts":                          {"limit", "after", "q"},
	"GET /api/v1/contacts/{email}/deliveries":       {"limit", "after", "status"},
	"GET /api/v1/suppressions":                      {"limit", "after", "email"},
	"GET /api/v1/inbound/kept":                      {"limit", "after"},
	"GET /api/v1/releases":                          {"limit", "after", "product"},
	"GET /api/v1/products":                          {"limit", "after"},
	"GET /api/v1/announcements":                     {"limit", "after", "kind", "status"},
	"GET /api/v1/announcements/{id}/deliveries":     {"limit", "after", "status", "email"},
	"GET /api/v1/invoices":                          {"limit", "after", "status", "license_id"},
	"POST /api/v1/templates/{name}/preview":         {"locale"},
}

// maxQueryName bounds the parameter names an error repeats.
const maxQueryName = 64

// checkQuery refuses a query string that does not parse, names a parameter
// outside accepted, or names one more than once. Errors name the parameter
// as the field, as errors about a parameter's value do.
func checkQuery(u *url.URL, accepted []string) error {
	if u.RawQuery == "" {
		return nil
	}
	values, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		// url.Values drops what it cannot parse; a dropped filter would
		// widen the answer, so a malformed query is refused whole.
		return fault.Invalid("", "the query string is malformed: %v", err)
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // the first bad one by name, the same on every try
	for _, name := range names {
		if len(name) > maxQueryName {
			// No parameter is named like that; echoing the name would
			// return whatever the client sent.
			return fault.Invalid("", "a query parameter name is longer than %d characters; %s", maxQueryName, acceptedList(accepted))
		}
		if !slices.Contains(accepted, name) {
			return fault.Invalid(name, "unknown query parameter; %s", acceptedList(accepted))
		}
		if len(values[name]) > 1 {
			return fault.Invalid(name, "is given %d times; give it once", len(values[name]))
		}
	}
	return nil
}

func acceptedList(accepted []string) string {
	if len(accepted) == 0 {
		return "this route takes no query parameters"
	}
	return "this route takes " + strings.Join(accepted, ", ")
}

// filterEmail is the ?email= filter of a list: absent, no filter; present,
// an address, never empty (which would read as "everyone").
func filterEmail(r *http.Request) (string, error) {
	q := r.URL.Query()
	if q.Has("email") && strings.TrimSpace(q.Get("email")) == "" {
		return "", fault.Invalid("email", "is empty; leave the parameter out to list everyone")
	}
	return q.Get("email"), nil
}
