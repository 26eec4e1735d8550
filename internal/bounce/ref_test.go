package bounce_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/bounce"
)

func refs(t *testing.T, secret, domain string) *bounce.Refs {
	t.Helper()
	r, err := bounce.NewRefs([]byte(secret), domain)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReturnPath(t *testing.T) {
	r := refs(t, "a secret of thirty-two bytes or more", "Bounces.Vendor.Test")
	for _, id := range []int64{1, 36, 123456789, 1<<63 - 1} {
		rp := r.ReturnPath(id)
		local, domain, _ := strings.Cut(rp, "@")
		if domain != "bounces.vendor.test" || len(local) > 64 || !strings.HasPrefix(local, "bounces+") {
			t.Errorf("ReturnPath(%d) = %q: want bounces+<token>@bounces.vendor.test within 64 characters", id, rp)
		}
		for _, as := range []string{rp, strings.ToUpper(rp), " " + rp + " "} {
			got, err := r.Delivery(as)
			if err != nil || got != id {
				t.Errorf("Delivery(%q) = %d, %v; want %d", as, got, err, id)
			}
		}
	}
	if got := refs(t, "x", "").ReturnPath(1); got != "" {
		t.Errorf("without a bounce domain ReturnPath = %q, want none", got)
	}
}

func TestReturnPathCannotBeForged(t *testing.T) {
	r := refs(t, "a secret of thirty-two bytes or more", "bounces.vendor.test")
	other := refs(t, "another secret of thirty-two bytes", "bounces.vendor.test")
	good := r.ReturnPath(42)
	local, _, _ := strings.Cut(good, "@")
	token := strings.TrimPrefix(local, "bounces+")
	id, mac, _ := strings.Cut(token, "-")
	forged := []string{
		other.ReturnPath(42),                              // another secret
		"bounces+" + "15-" + mac + "@bounces.vendor.test", // another delivery, same signature
		"bounces+" + id + "-" + mac[:len(mac)-1] + "a@bounces.vendor.test",
		"bounces+" + id + "@bounces.vendor.test",
		"bounces+" + id + "-" + mac + "@elsewhere.test",
		"bounces+0" + id + "-" + mac + "@bounces.vendor.test", // the same number, written differently
		"bounces+-" + id + "-" + mac + "@bounces.vendor.test",
		"someone@bounces.vendor.test",
		"bounces+" + strings.Repeat("z", 5000) + "@bounces.vendor.test",
		"",
		"@",
	}
	for _, f := range forged {
		if d, err := r.Delivery(f); err == nil {
			t.Errorf("Delivery(%q) = %d: a forged return path was accepted", f, d)
		} else if len(err.Error()) > 200 {
			t.Errorf("Delivery(%q): the error echoes %d bytes of input", f, len(err.Error()))
		}
	}
}

func TestMessageID(t *testing.T) {
	r := refs(t, "a secret of thirty-two bytes or more", "")
	id := r.MessageID(17, 3, "vendor.test")
	if id != r.MessageID(17, 3, "vendor.test") {
		t.Fatal("a delivery's Message-ID is not stable")
	}
	if !strings.HasPrefix(id, "17.3.") || !strings.HasSuffix(id, "@vendor.test") {
		t.Fatalf("MessageID = %q, want 17.3.<mac>@vendor.test", id)
	}
	for _, as := range []string{id, "<" + id + ">", strings.ToUpper(id)} {
		d, a, err := r.FromMessageID(as)
		if err != nil || d != 17 || a != 3 {
			t.Errorf("FromMessageID(%q) = %d, %d, %v; want 17, 3", as, d, a, err)
		}
	}
	mac := strings.TrimSuffix(strings.TrimPrefix(id, "17.3."), "@vendor.test")
	for _, f := range []string{
		"18.3." + mac + "@vendor.test",
		"17.4." + mac + "@vendor.test",
		"17.3@vendor.test",
		"017.3." + mac + "@vendor.test",
		refs(t, "another secret of thirty-two bytes", "").MessageID(17, 3, "vendor.test"),
		"17.3." + mac,
		"",
	} {
		if d, a, err := r.FromMessageID(f); err == nil {
			t.Errorf("FromMessageID(%q) = %d, %d: a forged Message-ID was accepted", f, d, a)
		}
	}
}

func TestTokenWithoutBounceDomain(t *testing.T) {
	r := refs(t, "a secret of thirty-two bytes or more", "")
	other := refs(t, "another secret of thirty-two bytes", "")
	for _, id := range []int64{1, 987654321, 1<<63 - 1} {
		token := r.Token(id)
		if len(token) > 30 {
			t.Errorf("Token(%d) = %q: longer than 30 characters", id, token)
		}
		for _, as := range []string{token, strings.ToUpper(token), " " + token} {
			if got, err := r.FromToken(as); err != nil || got != id {
				t.Errorf("FromToken(%q) = %d, %v; want %d", as, got, err, id)
			}
		}
		if got, err := other.FromToken(token); err == nil {
			t.Errorf("a token of another secret names delivery %d", got)
		}
		headers := r.ProviderHeaders(id)
		if len(headers) != 1 || headers[0] != [2]string{"X-PM-Metadata-" + bounce.PostmarkMetadataKey, token} || len(bounce.PostmarkMetadataKey) > 20 {
			t.Errorf("ProviderHeaders(%d) = %v: want the token under a Postmark metadata key of at most 20 characters", id, headers)
		}
	}
	for _, f := range []string{"", "-", "1-", "1", "0-aaaaaaaaaaaaaaaa", strings.Repeat("9", 100)} {
		if d, err := r.FromToken(f); err == nil {
			t.Errorf("FromToken(%q) = %d: want an error", f, d)
		}
	}
}
