package contacts

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"golang.org/x/net/idna"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// Limits of RFC 5321 and RFC 1035 on what an address and its domain can be.
const (
	maxDomainLen = 253
	maxLabelLen  = 63
)

// NormalizeEmail checks a new address and returns the one form herald
// stores it in, so that two spellings of one mailbox are one contact and
// two mailboxes are never one:
//
//   - The part before the @ must be ASCII; its letters A-Z are lowered and
//     nothing else is changed. Lowering with Unicode's rules would fold
//     other characters into ASCII (the Kelvin sign K into k) and merge
//     two addresses; and herald sends without SMTPUTF8, which a non-ASCII
//     local part needs, so it could not deliver one anyway.
//   - The domain must be a host name by IDNA's lookup rules (UTS 46),
//     which refuse labels such as -bad- or a malformed xn--. An
//     internationalised domain is accepted and stored in its ASCII form
//     (bücher.de as xn--bcher-kva.de), the form DNS and SMTP use, so that
//     either spelling finds the same contact.
//   - IP addresses, bracketed ([127.0.0.1]) or bare, are not accepted as
//     domains: mail for a customer goes to a name.
//
// Addresses stored before these rules are not rewritten; LookupEmail finds
// them.
func NormalizeEmail(field, s string) (string, error) {
	local, domain, err := parseEmail(field, s)
	if err != nil {
		return "", err
	}
	for i := 0; i < len(local); i++ {
		if local[i] >= 0x80 {
			return "", fault.Invalid(field, "%q: the part before the @ must be ASCII", s)
		}
	}
	if domain, err = normalizeDomain(domain); err != nil {
		return "", fault.Invalid(field, "%q: %v", s, err)
	}
	addr := lowerASCII(local) + "@" + domain
	if len(addr) > maxEmailLen {
		return "", fault.Invalid(field, "is longer than %d characters", maxEmailLen)
	}
	return addr, nil
}

// LookupEmail returns the forms in which an address given to find a stored
// one may be stored, in the order to prefer them. Rows written before
// NormalizeEmail's rules hold the address lowered by Unicode's rules and
// an internationalised domain as typed; they are not rewritten, and must
// stay reachable by the address they hold. So a lookup accepts what
// earlier versions accepted, and tries, in turn:
//
//   - the address as given with A-Z lowered, which leaves every stored
//     address as it is, so each row is found by the address it shows;
//   - the form NormalizeEmail stores, when its rules take the address;
//   - that form with its domain spelled in Unicode, as an earlier herald
//     stored an internationalised domain, so that a new contact and an
//     old one of the same mailbox are found as one.
func LookupEmail(field, s string) ([]string, error) {
	local, domain, err := parseEmail(field, s)
	if err != nil {
		return nil, err
	}
	forms := []string{lowerASCII(local + "@" + domain)}
	current, err := NormalizeEmail(field, s)
	if err != nil {
		return forms, nil
	}
	add := func(f string) {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	add(current)
	local, domain, _ = strings.Cut(current, "@")
	if unicode, err := idna.Lookup.ToUnicode(domain); err == nil {
		add(local + "@" + unicode)
	}
	return forms, nil
}

// parseEmail checks that s is one bare address with a dotted domain, as
// herald has always required, and splits it.
func parseEmail(field, s string) (local, domain string, err error) {
	if s == "" {
		return "", "", fault.Invalid(field, "is required")
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", "", fault.Invalid(field, "must not contain line breaks")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != strings.TrimSpace(s) {
		return "", "", fault.Invalid(field, "%q is not an email address", s)
	}
	local, domain, _ = strings.Cut(addr.Address, "@")
	if !strings.Contains(strings.Trim(domain, "."), ".") {
		return "", "", fault.Invalid(field, "%q has no domain such as example.com", s)
	}
	if len(addr.Address) > maxEmailLen {
		return "", "", fault.Invalid(field, "is longer than %d characters", maxEmailLen)
	}
	return local, domain, nil
}

// normalizeDomain returns the ASCII form of a mail domain, or says why it
// is not one.
func normalizeDomain(domain string) (string, error) {
	if strings.HasPrefix(domain, "[") {
		return "", fmt.Errorf("an IP address is not accepted as the domain; give the domain name")
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("%q is not a domain name (%s)", domain, badLabel(domain))
	}
	// The lookup profile leaves lengths and empty labels alone (and turns
	// a bare "xn--" into an empty label): check the result as DNS would.
	if len(ascii) > maxDomainLen {
		return "", fmt.Errorf("the domain is longer than %d characters", maxDomainLen)
	}
	labels := strings.Split(ascii, ".")
	for _, label := range labels {
		if label == "" || len(label) > maxLabelLen {
			return "", fmt.Errorf("%q is not a domain name (each part between dots has 1 to %d characters)", domain, maxLabelLen)
		}
	}
	if net.ParseIP(ascii) != nil || !slices.ContainsFunc(labels, notDigits) {
		// Refuses 127.0.0.1 and its shorter spellings (127.1) alike.
		return "", fmt.Errorf("an IP address is not accepted as the domain; give the domain name")
	}
	if !notDigits(labels[len(labels)-1]) {
		// No top-level domain is all digits (RFC 3696).
		return "", fmt.Errorf("the domain's last label cannot be all digits")
	}
	return ascii, nil
}

func notDigits(label string) bool { return strings.Trim(label, "0123456789") != "" }

// badLabel names the label of domain that IDNA refuses, as it was given.
// The error of idna quotes the label after decoding it, and the decoding
// of a malformed A-label (xn--abc) is control characters, not what the
// person typed.
func badLabel(domain string) string {
	for label := range strings.SplitSeq(domain, ".") {
		if _, err := idna.Lookup.ToASCII(label); err != nil {
			return fmt.Sprintf("the label %q is not valid", label)
		}
	}
	// A rule across labels, such as the bidi rule of a domain with a
	// right-to-left label.
	return "IDNA's rules refuse it"
}

// lowerASCII lowers the letters A-Z and nothing else.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// storedEmail returns the form in which the contacts table holds an
// address given to find a contact: of the forms LookupEmail returns, the
// first that a row has; when none has, the current form (or, for an address
// the current rules refuse, the address as given, which finds nothing).
func (s *Store) storedEmail(ctx context.Context, q sqlx.ExtContext, field, email string) (string, error) {
	forms, err := LookupEmail(field, email)
	if err != nil {
		return "", err
	}
	fallback := forms[0]
	if current, err := NormalizeEmail(field, email); err == nil {
		fallback = current
	}
	if len(forms) == 1 {
		return fallback, nil
	}
	query, args, err := db.In(`SELECT email FROM contacts WHERE email IN (?)`, forms)
	if err != nil {
		return "", err
	}
	var found []string
	if err := db.Select(ctx, q, &found, query, args...); err != nil {
		return "", fmt.Errorf("look up %s: %w", forms[0], err)
	}
	for _, f := range forms {
		if slices.Contains(found, f) {
			return f, nil
		}
	}
	return fallback, nil
}
