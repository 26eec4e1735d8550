package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// CIDRs is HERALD_TRUSTED_PROXIES: comma-separated networks such as
// 10.0.0.0/8 or fd00::/8; a bare address is a network of one.
type CIDRs []netip.Prefix

// UnmarshalText reads a comma-separated list; an empty text is none.
func (c *CIDRs) UnmarshalText(text []byte) error {
	var out CIDRs
	for part := range strings.SplitSeq(string(text), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil {
				return fmt.Errorf("%q is not a network such as 10.0.0.0/8 or an address", part)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	*c = out
	return nil
}

// Contains reports whether a is in one of the networks.
func (c CIDRs) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
