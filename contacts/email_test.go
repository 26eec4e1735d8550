package contacts_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()

	t.Run("Accepted", func(t *testing.T) {
		for _, tc := range []struct{ in, want string }{
			{"ann@acme.test", "ann@acme.test"},
			{"Ann.Lee+news@ACME.Test", "ann.lee+news@acme.test"},
			{" ann@acme.test ", "ann@acme.test"},
			{"o'neil@acme.test", "o'neil@acme.test"},
			{"ann@sub.acme-corp.test", "ann@sub.acme-corp.test"},
			{"ann@123.acme.test", "ann@123.acme.test"},
			// An internationalised domain is stored as its A-labels, so
			// either spelling is one address.
			{"ann@bücher.test", "ann@xn--bcher-kva.test"},
			{"ann@BÜCHER.test", "ann@xn--bcher-kva.test"},
			{"ann@xn--bcher-kva.test", "ann@xn--bcher-kva.test"},
			{"ann@straße.test", "ann@xn--strae-oqa.test"},
			// IDNA maps the domain as DNS resolves it: the Kelvin sign in a
			// domain is the letter k there.
			{"ann@\u212Aate.test", "ann@kate.test"},
		} {
			got, err := contacts.NormalizeEmail("email", tc.in)
			if err != nil || got != tc.want {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			if again, err := contacts.NormalizeEmail("email", got); err != nil || again != got {
				t.Errorf("NormalizeEmail(%q) = %q, %v: the stored form is not kept as it is", got, again, err)
			}
		}
	})

	t.Run("Refused", func(t *testing.T) {
		for _, tc := range []struct{ name, in, says string }{
			{"Empty", "", "required"},
			{"NoAt", "ann(at)acme.test", "not an email address"},
			{"DisplayName", "Ann <ann@acme.test>", "not an email address"},
			{"NoDot", "ann@localhost", "no domain"},
			{"LineBreak", "ann@acme.test\r\nBcc: x@evil.test", "line breaks"},
			// Unicode lowering would fold these into ASCII and merge two
			// addresses; herald takes ASCII local parts only.
			{"KelvinSign", "\u212Aate@acme.test", "must be ASCII"},
			{"LongS", "\u017Fam@acme.test", "must be ASCII"},
			{"DottedCapitalI", "\u0130an@acme.test", "must be ASCII"},
			{"UnicodeLocal", "jürgen@acme.test", "must be ASCII"},
			{"HyphenLabel", "ann@-bad-.test", "not a domain name"},
			{"TrailingHyphen", "ann@acme-.test", "not a domain name"},
			{"MalformedPunycode", "ann@xn--zz.test", "not a domain name"},
			{"EmptyPunycode", "ann@xn--.test", "not a domain name"},
			{"Underscore", "ann@ac_me.test", "not a domain name"},
			{"EmptyLabel", "ann@acme..test", "not an email address"},
			{"TrailingDot", "ann@acme.test.", "not an email address"},
			{"LongLabel", "ann@" + strings.Repeat("a", 64) + ".test", "not a domain name"},
			{"IPLiteral", "ann@[127.0.0.1]", "IP address"},
			{"IPv6Literal", "ann@[IPv6:::1]", "not an email address"},
			{"BareIP", "ann@127.0.0.1", "IP address"},
			{"ShortIP", "ann@127.1", "IP address"},
			{"NumericTLD", "ann@acme.123", "the domain's last label cannot be all digits"},
			{"NumericLabels", "ann@1.2.3.4.5", "IP address"},
			// The label as typed, not its decoding (control characters).
			{"BadALabel", "x@xn--abc.com", `"xn--abc.com" is not a domain name (the label "xn--abc" is not valid)`},
			{"BadALabelInside", "ann@mail.xn--zz.test", `(the label "xn--zz" is not valid)`},
			{"BadULabel", "ann@mail.-bücher-.test", `(the label "-bücher-" is not valid)`},
			// Each label is fine alone; together they break the bidi rule.
			{"AcrossLabels", "ann@\u05d0.1a.test", "IDNA's rules refuse it"},
			{"TooLong", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + ".test", "longer than"},
			{"TooLongAsPunycode", "a@" + strings.Repeat("ä.", 80) + "test", "longer than"}, // 246 bytes as typed; the domain is 644 as A-labels
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := contacts.NormalizeEmail("contacts[0].email", tc.in)
				f, ok := fault.As(err)
				if !ok || f.Kind != fault.KindInvalid || f.Field != "contacts[0].email" {
					t.Fatalf("NormalizeEmail(%q) = %q, %v; want invalid contacts[0].email", tc.in, got, err)
				}
				if !strings.Contains(f.Message, tc.says) {
					t.Errorf("message %q does not say %q", f.Message, tc.says)
				}
			})
		}
	})
}

// TestLookupEmail: a lookup finds an address in every form a row may hold
// it, including rows stored by earlier rules (Unicode lowering, domains as
// typed), and does not fold one address into another.
func TestLookupEmail(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"ann@acme.test", []string{"ann@acme.test"}},
		{"ANN@Acme.Test", []string{"ann@acme.test"}},
		// Refused as new input, but a stored row may hold them.
		{"ann@[127.0.0.1]", []string{"ann@[127.0.0.1]"}},
		{"ann@-bad-.test", []string{"ann@-bad-.test"}},
		{"jürgen@acme.test", []string{"jürgen@acme.test"}},
		{"\u212Aate@acme.test", []string{"\u212Aate@acme.test"}}, // not kate@
		{"JÜRGEN@acme.test", []string{"jÜrgen@acme.test"}},
		// Either spelling of a domain finds either kind of row.
		{"ann@bücher.test", []string{"ann@bücher.test", "ann@xn--bcher-kva.test"}},
		{"ann@BÜCHER.test", []string{"ann@bÜcher.test", "ann@xn--bcher-kva.test", "ann@bücher.test"}},
		{"ann@xn--bcher-kva.test", []string{"ann@xn--bcher-kva.test", "ann@bücher.test"}},
	} {
		got, err := contacts.LookupEmail("email", tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("LookupEmail(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "ann", "ann@localhost", "Ann <ann@acme.test>", "a\r\n@acme.test"} {
		if _, err := contacts.LookupEmail("email", in); !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("LookupEmail(%q) = %v, want invalid", in, err)
		}
	}
}

// TestEarlierAddressesStayReachable: rows stored under earlier rules are
// not rewritten, and are found, changed and suppressed by the address they
// hold; a new contact of the same mailbox joins the earlier row.
func TestEarlierAddressesStayReachable(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		store, bundle := newStore(t, database)
		ctx := context.Background()
		if _, err := store.CreateLicense(ctx, staff, contacts.NewLicense{ID: "SEN-1", Product: "jira", Name: "Acme",
			Contacts: []contacts.NewMember{{Email: "ann@acme.test", Role: contacts.Technical}}}); err != nil {
			t.Fatal(err)
		}
		// As an earlier herald stored them: lowered by Unicode's rules, the
		// domain as typed, IP domains accepted.
		earlier := []string{"kate@acme.test", "jürgen@acme.test", "ann@bücher.test", "ann@[127.0.0.1]", "ann@-bad-.test"}
		for _, email := range earlier {
			if _, err := db.Exec(ctx, bundle.db, `INSERT INTO contacts (email, name, created_at, updated_at) VALUES (?, '', ?, ?)`, email, bundle.now, bundle.now); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(ctx, bundle.db, `INSERT INTO memberships (license_id, email, role, is_main, created_at) VALUES ('SEN-1', ?, 'billing', FALSE, ?)`, email, bundle.now); err != nil {
				t.Fatal(err)
			}
		}
		name := "Found"
		for _, email := range earlier {
			c, err := store.GetContact(ctx, email)
			if err != nil || c.Email != email {
				t.Errorf("GetContact(%q) = %q, %v", email, c.Email, err)
				continue
			}
			if c, err := store.UpdateContact(ctx, email, contacts.ContactPatch{Name: &name}); err != nil || c.Name != name {
				t.Errorf("UpdateContact(%q) = %+v, %v", email, c, err)
			}
			if err := store.Suppress(ctx, email, contacts.Suppression{Reply: "550 no"}); err != nil {
				t.Errorf("Suppress(%q) = %v", email, err)
			}
			if rec, err := store.Unsuppress(ctx, email, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}); err != nil || rec.Email != email {
				t.Errorf("Unsuppress(%q) = %+v, %v", email, rec, err)
			}
			if _, err := store.Promote(ctx, staff, "SEN-1", email, contacts.Billing); err != nil {
				t.Errorf("Promote(%q) = %v", email, err)
			}
		}
		// The Kelvin sign does not reach kate@, which an earlier herald may
		// have stored from it: the two are different addresses now.
		if _, err := store.GetContact(ctx, "\u212Aate@acme.test"); !errors.Is(err, fault.ErrNotFound) {
			t.Errorf("GetContact(Kelvin sign) = %v, want not found", err)
		}
		// The other spelling of the domain finds the earlier row, and a
		// new member of that mailbox joins it rather than making a second.
		if c, err := store.GetContact(ctx, "ANN@xn--bcher-kva.test"); err != nil || c.Email != "ann@bücher.test" {
			t.Errorf("GetContact(A-label spelling) = %q, %v", c.Email, err)
		}
		if _, err := store.AddMember(ctx, staff, "SEN-1", contacts.NewMember{Email: "ann@BÜCHER.test", Role: contacts.Technical}); err != nil {
			t.Fatal(err)
		}
		var rows []string
		if err := db.Select(ctx, bundle.db, &rows, `SELECT email FROM contacts WHERE email LIKE 'ann@%' ORDER BY email`); err != nil {
			t.Fatal(err)
		}
		if want := []string{"ann@-bad-.test", "ann@[127.0.0.1]", "ann@acme.test", "ann@bücher.test"}; !slices.Equal(rows, want) {
			t.Errorf("contacts = %q, want %q (none rewritten, none doubled)", rows, want)
		}
		c, err := store.GetContact(ctx, "ann@bücher.test")
		if err != nil || len(c.Memberships) != 2 {
			t.Errorf("ann@bücher.test after AddMember: %+v, %v", c.Memberships, err)
		}
	})
}
