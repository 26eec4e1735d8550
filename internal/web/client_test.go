package web_test

import (
	"net/http"
	"testing"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/web"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	var trusted config.CIDRs
	if err := trusted.UnmarshalText([]byte("10.0.0.0/8, fd00::1")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"NoProxy", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"UntrustedPeerIsBelievedNot", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"TrustedProxy", "10.1.2.3:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"ClientWritesTheHeaderItself", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"TwoTrustedProxies", "10.1.2.3:5000", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1"},
		{"HeaderOverTwoLines", "10.1.2.3:5000", []string{"198.51.100.1", "10.9.9.9"}, "198.51.100.1"},
		{"IPv6Proxy", "[fd00::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"MangledHeader", "10.1.2.3:5000", []string{"198.51.100.1, nonsense"}, "10.1.2.3"},
		{"OnlyProxies", "10.1.2.3:5000", []string{"10.4.4.4"}, "10.4.4.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := web.ClientAddr(r, trusted).String(); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
