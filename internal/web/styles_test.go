package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/web"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// TestStyleHashes hashes what the browser hashes: attribute values once
// their character references are decoded, and a style element's raw text.
func TestStyleHashes(t *testing.T) {
	t.Parallel()
	doc := `<!DOCTYPE html><html><head><style>p > a{color:red}</style></head><body>
<p style="font-family:&#39;Segoe UI&#39;,Arial;color:#172b4d;">one</p>
<p style="font-family:'Segoe UI',Arial;color:#172b4d;">same style, written otherwise</p>
<p>no style</p><br style="clear:both"/></body></html>`
	want := []string{sha("font-family:'Segoe UI',Arial;color:#172b4d;"), sha("p > a{color:red}"), sha("clear:both")}
	slices.Sort(want)
	got := web.StyleHashes(doc)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hashes (-want +got):\n%s", diff)
	}
	if got := web.StyleHashes("<p>plain</p>"); len(got) != 0 {
		t.Errorf("a document without styles: %v", got)
	}
}

// TestPolicyAdditions keeps every page's policy strict, and a page's
// additions to exactly what it asked for.
func TestPolicyAdditions(t *testing.T) {
	t.Parallel()
	base := web.Policy{}.String()
	if base != "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" {
		t.Errorf("every page's policy changed: %s", base)
	}
	p := web.Policy{Fetch: true, Styles: []string{sha("color:red")}}.String()
	for _, want := range []string{"connect-src 'self'", "style-src 'self' 'unsafe-hashes' " + sha("color:red") + ";", "script-src 'self';", "frame-ancestors 'none'"} {
		if !strings.Contains(p, want) {
			t.Errorf("policy %q lacks %q", p, want)
		}
	}
	if strings.Contains(p, "unsafe-inline") {
		t.Errorf("policy allows any inline style or script: %s", p)
	}
}
