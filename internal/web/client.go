package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/heraldhq/herald/config"
)

// ClientAddr returns the address of the client that sent r: the peer's,
// unless the peer is a trusted proxy, in which case X-Forwarded-For is
// read from the right, past every trusted proxy, to the first address a
// trusted proxy saw. What a client writes into the header itself is never
// believed: it is left of what the proxies appended.
func ClientAddr(r *http.Request, trusted config.CIDRs) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	if !trusted.Contains(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer // a mangled header: the last proxy is all that is known
		}
		a = a.Unmap()
		if !trusted.Contains(a) {
			return a
		}
		peer = a
	}
	return peer
}
