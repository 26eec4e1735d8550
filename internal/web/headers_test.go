package web_test

import (
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald/internal/web"
)

func TestPolicy(t *testing.T) {
	t.Parallel()
	const strict = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	for _, tt := range []struct {
		name string
		more map[string][]string
		want string
	}{
		{"Strict", nil, strict},
		{"MoreSources", map[string][]string{"script-src": {"'sha256-x'"}, "style-src": {"'unsafe-hashes'", "'sha256-y'"}},
			"default-src 'none'; script-src 'self' 'sha256-x'; style-src 'self' 'unsafe-hashes' 'sha256-y'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"},
		{"NewDirectives", map[string][]string{"manifest-src": {"'self'"}, "connect-src": {"'self'"}}, strict + "; connect-src 'self'; manifest-src 'self'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := (web.Policy{More: tt.more}).String(); got != tt.want {
				t.Errorf("Policy =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	// The hash of alert(1), as browsers compute it.
	if got := web.HashSource("alert(1)"); got != "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='" {
		t.Errorf("HashSource = %s", got)
	}
}

func TestSentFromHere(t *testing.T) {
	t.Parallel()
	forms := web.NewForms([]byte("key"), "https://herald.vendor.test")
	for _, tt := range []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"PublicOrigin", map[string]string{"Origin": "https://herald.vendor.test"}, true},
		{"TheHostItWasSentTo", map[string]string{"Origin": "http://10.0.0.5:8080"}, true},
		{"SameOriginFetch", map[string]string{"Origin": "https://herald.vendor.test", "Sec-Fetch-Site": "same-origin"}, true},
		{"NoOrigin", map[string]string{}, false},
		{"NoOriginButAReferer", map[string]string{"Referer": "https://herald.vendor.test/console/queues/"}, false},
		{"ForeignOrigin", map[string]string{"Origin": "https://evil.test"}, false},
		{"NullOrigin", map[string]string{"Origin": "null"}, false},
		{"CrossSite", map[string]string{"Origin": "https://herald.vendor.test", "Sec-Fetch-Site": "cross-site"}, false},
		{"SameSiteSubdomain", map[string]string{"Origin": "https://herald.vendor.test", "Sec-Fetch-Site": "same-site"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("DELETE", "http://10.0.0.5:8080/console/queues/api/queues/herald", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got := forms.SentFromHere(r); got != tt.want {
				t.Errorf("SentFromHere = %v, want %v", got, tt.want)
			}
		})
	}
}
