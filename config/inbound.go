package config

import "net"

// Inbound configures what herald learns from the mail that comes back:
// the bounce domain of its return paths, and the SMTP server that takes
// bounces and complaints for it.
type Inbound struct {
	// BounceDomain, when set, makes each message's envelope sender a
	// signed address per delivery at this domain, where bounces go.
	BounceDomain string `yaml:"bounce_domain"`
	// Addr, when set, is the listen address of the SMTP server that takes
	// the bounces and complaints sent to BounceDomain.
	Addr string `yaml:"inbound_addr"`
	// MaxConnections caps the SMTP connections served at once; more wait
	// to be accepted.
	MaxConnections int `yaml:"inbound_max_connections"`
}

func (i Inbound) validate() problems {
	var p problems
	if i.BounceDomain != "" {
		if err := checkDomain(i.BounceDomain); err != nil {
			p.add("BOUNCE_DOMAIN", "%v", err)
		}
	}
	if i.Addr != "" {
		if _, _, err := net.SplitHostPort(i.Addr); err != nil {
			p.add("INBOUND_ADDR", "%q is not host:port", i.Addr)
		}
		if i.BounceDomain == "" {
			p.add("INBOUND_ADDR", "needs HERALD_BOUNCE_DOMAIN: the server takes mail for the bounce domain only")
		}
	}
	if i.MaxConnections < 1 || i.MaxConnections > 10000 {
		p.add("INBOUND_MAX_CONNECTIONS", "must be between 1 and 10000")
	}
	return p
}
