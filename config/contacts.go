package config

import (
	"fmt"
	"strings"
)

// Contacts are the settings of the contacts portal's rules.
type Contacts struct {
	// PublicEmailDomains extend the built-in list of free-mail domains
	// (gmail.com, outlook.com…): two addresses at one of them share only
	// their provider, so the portal does not let one make the other the
	// main contact.
	PublicEmailDomains Domains `yaml:"public_email_domains"`
}

// Domains is a list of mail domains, written comma-separated in the
// environment.
type Domains []string

// UnmarshalText reads a comma-separated list; empty entries are ignored.
func (d *Domains) UnmarshalText(text []byte) error {
	var out Domains
	for part := range strings.SplitSeq(string(text), ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	*d = out
	return nil
}

func (c Contacts) validate() problems {
	var p problems
	for i, d := range c.PublicEmailDomains {
		if err := checkDomain(d); err != nil {
			p.add("PUBLIC_EMAIL_DOMAINS", "entry %d: %v", i+1, err)
		}
	}
	return p
}

// checkDomain accepts a domain name as mail addresses use it: dot-separated
// labels of letters, digits and hyphens (an internationalised domain in
// its xn-- form), at least two of them.
func checkDomain(d string) error {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return fmt.Errorf("%q is not a domain such as example.com", d)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q is not a domain such as example.com", d)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%q is not a domain such as example.com (write an internationalised one in its xn-- form)", d)
			}
		}
	}
	return nil
}
