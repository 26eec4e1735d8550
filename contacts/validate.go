package contacts

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // licenses name IANA zones; the binary must know them on any host
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/heraldhq/herald/internal/fault"
)

var (
	licenseIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	productPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
)

const (
	maxNameLen  = 200
	maxEmailLen = 254
	// maxSearchLen bounds a search text: nothing herald searches is longer
	// (names are 200 characters, addresses 254 bytes but searched by a
	// part), and SQLite refuses LIKE patterns past 50,000 bytes.
	maxSearchLen = 200
)

// ValidateLicenseID checks a license id: letters, digits, '.', '_' and '-',
// up to 64 characters, as it appears in URLs.
func ValidateLicenseID(field, id string) error {
	if id == "" {
		return fault.Invalid(field, "is required")
	}
	if !licenseIDPattern.MatchString(id) {
		return fault.Invalid(field, "%q is not a license id (letters, digits, '.', '_' and '-', up to 64 characters)", id)
	}
	return nil
}

// NormalizeProduct lower-cases and checks a product key such as "jira".
func NormalizeProduct(field, product string) (string, error) {
	product = strings.ToLower(strings.TrimSpace(product))
	if product == "" {
		return "", fault.Invalid(field, "is required")
	}
	if !productPattern.MatchString(product) {
		return "", fault.Invalid(field, "%q is not a product key (lower-case letters, digits, '.', '_' and '-', up to 64 characters)", product)
	}
	return product, nil
}

// checkSearch checks a search text such as ?q=.
func checkSearch(field, q string) error {
	if utf8.RuneCountInString(q) > maxSearchLen {
		return fault.Invalid(field, "is longer than %d characters", maxSearchLen)
	}
	return nil
}

// NormalizeName trims a display name and rejects line breaks and control
// characters, which could otherwise end up in a mail header.
func NormalizeName(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" && required {
		return "", fault.Invalid(field, "is required")
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", fault.Invalid(field, "must not contain line breaks")
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", fault.Invalid(field, "must not contain control characters")
	}
	if strings.ContainsFunc(s, bidiControl) {
		return "", fault.Invalid(field, "must not contain bidirectional embedding, override or isolate characters")
	}
	if utf8.RuneCountInString(s) > maxNameLen {
		return "", fault.Invalid(field, "is longer than %d characters", maxNameLen)
	}
	return s, nil
}

// bidiControl reports the characters that reorder the text around them
// (U+202A–U+202E, U+2066–U+2069): in a name they would make a subject or
// a page read other than it is ("Trojan Source"). The plain marks LRM and
// RLM, which right-to-left names may need, are allowed.
func bidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// ParseRole checks a role name.
func ParseRole(field, s string) (Role, error) {
	switch r := Role(s); r {
	case Technical, Billing:
		return r, nil
	case "":
		return "", fault.Invalid(field, "is required (technical or billing)")
	default:
		return "", fault.Invalid(field, "%q is not a role (technical or billing)", s)
	}
}

// ParseStatus checks a license status.
func ParseStatus(field, s string) (Status, error) {
	switch st := Status(s); st {
	case Active, Expired, Cancelled:
		return st, nil
	default:
		return "", fault.Invalid(field, "%q is not a status (active, expired or cancelled)", s)
	}
}

// ValidateTimezone checks an IANA timezone name such as Europe/Berlin.
func ValidateTimezone(field, tz string) error {
	if tz == "" {
		return fault.Invalid(field, "is required")
	}
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		return fault.Invalid(field, "%q is not an IANA timezone such as Europe/Berlin", tz)
	}
	return nil
}

// NormalizeLocale checks a BCP 47 language tag ("en", "de", "pt-BR") and
// returns its canonical form.
func NormalizeLocale(field, s string) (string, error) {
	tag, err := language.Parse(s)
	if err != nil || s == "" {
		return "", fault.Invalid(field, "%q is not a language tag such as en, de or pt-BR", s)
	}
	return tag.String(), nil
}

// normalize validates a NewLicense in place, naming fields as JSON paths.
func (nl *NewLicense) normalize() error {
	var err error
	if err = ValidateLicenseID("id", nl.ID); err != nil {
		return err
	}
	if nl.Product, err = NormalizeProduct("product", nl.Product); err != nil {
		return err
	}
	if nl.Name, err = NormalizeName("name", nl.Name, true); err != nil {
		return err
	}
	if nl.Status == "" {
		nl.Status = Active
	}
	if nl.Status, err = ParseStatus("status", string(nl.Status)); err != nil {
		return err
	}
	if nl.Timezone == "" {
		nl.Timezone = "UTC"
	}
	if err = ValidateTimezone("timezone", nl.Timezone); err != nil {
		return err
	}
	type key struct {
		email string
		role  Role
	}
	seen := make(map[key]bool)
	mains := make(map[Role]bool)
	for i := range nl.Contacts {
		m := &nl.Contacts[i]
		prefix := "contacts[" + strconv.Itoa(i) + "]"
		if err := m.normalize(); err != nil {
			return fault.WithPrefix(prefix, err)
		}
		if seen[key{m.Email, m.Role}] {
			return fault.Invalid(prefix+".email", "%s is listed twice as %s contact", m.Email, m.Role)
		}
		seen[key{m.Email, m.Role}] = true
		if m.Main && mains[m.Role] {
			return fault.Invalid(prefix+".main", "only one %s contact can be main", m.Role)
		}
		mains[m.Role] = mains[m.Role] || m.Main
	}
	return nil
}

func (m *NewMember) normalize() error {
	var err error
	if m.Email, err = NormalizeEmail("email", m.Email); err != nil {
		return err
	}
	if m.Name, err = NormalizeName("name", m.Name, false); err != nil {
		return err
	}
	if m.Role, err = ParseRole("role", string(m.Role)); err != nil {
		return err
	}
	return nil
}

func (p *LicensePatch) normalize() error {
	var err error
	if p.Name != nil {
		if *p.Name, err = NormalizeName("name", *p.Name, true); err != nil {
			return err
		}
	}
	if p.Product != nil {
		if *p.Product, err = NormalizeProduct("product", *p.Product); err != nil {
			return err
		}
	}
	if p.Status != nil {
		if *p.Status, err = ParseStatus("status", string(*p.Status)); err != nil {
			return err
		}
	}
	if p.Timezone != nil {
		if err = ValidateTimezone("timezone", *p.Timezone); err != nil {
			return err
		}
	}
	return nil
}

func (p *ContactPatch) normalize() error {
	var err error
	if p.Name != nil {
		if *p.Name, err = NormalizeName("name", *p.Name, false); err != nil {
			return err
		}
	}
	if p.Locale != nil {
		if *p.Locale, err = NormalizeLocale("locale", *p.Locale); err != nil {
			return err
		}
	}
	return nil
}
