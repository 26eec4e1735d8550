package markdown

import (
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/fault"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, text string
		want       fault.Kind
	}{
		{"OverTheLimitIsTooLarge", strings.Repeat("x", MaxBytes+1), fault.KindTooLarge},
		{"SlowToRenderIsInvalid", fill("*a_", 32<<10), fault.KindInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := fault.As(Validate("notes", tt.text))
			if !ok || f.Kind != tt.want || f.Field != "notes" {
				t.Fatalf("Validate = %v, want %s in notes", f, tt.want)
			}
		})
	}
	t.Run("AtTheLimitIsAccepted", func(t *testing.T) {
		if err := Validate("notes", strings.Repeat("x", MaxBytes)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("TooMuchHTMLIsInvalid", func(t *testing.T) {
		// Check accepts it, and it is under MaxHTML: refused only under
		// a lower limit.
		src := repeatedReference(1900)
		if err := Validate("notes", src); err != nil {
			t.Fatalf("Validate = %v", err)
		}
		f, ok := fault.As(validate("notes", src, 1<<20))
		if !ok || f.Kind != fault.KindInvalid || f.Field != "notes" || !strings.Contains(f.Error(), "more than 1 MiB of HTML") {
			t.Fatalf("validate = %v, want invalid notes, more than 1 MiB of HTML", f)
		}
	})
}

// repeatedReference is a reference definition of 1 KB used n times: about
// n KB of HTML.
func repeatedReference(n int) string {
	return "[a]: https://example.com/" + strings.Repeat("x", 1000) + "\n\n" + strings.Repeat(strings.Repeat("[a] ", 100)+"\n\n", n/100)
}

func TestRender(t *testing.T) {
	t.Parallel()

	t.Run("RendersMarkdownSafely", func(t *testing.T) {
		html, err := Render("## New\n\n* **bold** [docs](https://example.com) [x](javascript:alert(1)) <script>alert(1)</script>\n")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"<h2>New</h2>", "<strong>bold</strong>", `<a href="https://example.com">docs</a>`} {
			if !strings.Contains(html, want) {
				t.Errorf("HTML lacks %q:\n%s", want, html)
			}
		}
		for _, bad := range []string{"javascript:", "<script"} {
			if strings.Contains(html, bad) {
				t.Errorf("HTML holds %q:\n%s", bad, html)
			}
		}
	})

	t.Run("ShowsRefusedTextAsPlainText", func(t *testing.T) {
		// Rows stored before Check existed, and template previews, are
		// shown, not converted.
		src := "<b>" + fill("*a_", 32<<10)
		html, err := Render(src)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(html, `<div style="white-space:pre-wrap">&lt;b&gt;*a_*a_`) || strings.Contains(html, "<em>") {
			t.Errorf("HTML = %.80q…, want the text escaped", html)
		}
	})

	t.Run("ShowsTextOfTooMuchHTMLAsPlainText", func(t *testing.T) {
		src := repeatedReference(1900)
		if html, err := render(src, 4<<20); err != nil || len(html) < 1<<20 {
			t.Fatalf("render under 4 MiB = %d bytes, %v; want the HTML", len(html), err)
		}
		html, err := render(src, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(html, `<div style="white-space:pre-wrap">[a]: https://`) || len(html) > 2*len(src) {
			t.Errorf("HTML = %.80q… (%d bytes), want the text escaped", html, len(html))
		}
	})
}

func TestCache(t *testing.T) {
	t.Parallel()

	t.Run("RendersEachTextOnceForConcurrentCallers", func(t *testing.T) {
		c := NewCache(1 << 20)
		notes := changelog(MaxBytes)
		want, _ := Render(notes)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				got, err := c.Render(notes)
				if err != nil || got != want {
					t.Errorf("Render = %.40q…, %v", got, err)
				}
			})
		}
		wg.Wait()
		if n := c.Renders(); n != 1 {
			t.Errorf("Renders = %d, want 1", n)
		}
		if _, err := c.Render(notes + "\n\nOne more line."); err != nil {
			t.Fatal(err)
		}
		if n := c.Renders(); n != 2 {
			t.Errorf("Renders after another text = %d, want 2", n)
		}
	})

	t.Run("DoesNotKeepATextLargerThanItself", func(t *testing.T) {
		small, large := fill("a ", 1<<10), fill("b ", 20<<10)
		cache := NewCache(10 << 10)
		renders := func(texts ...string) int64 {
			for _, s := range texts {
				if _, err := cache.Render(s); err != nil {
					t.Fatal(err)
				}
			}
			return cache.Renders()
		}
		if n := renders(small, large, large); n != 3 {
			t.Errorf("Renders = %d, want 3: the large text each time", n)
		}
		if n := renders(small); n != 3 {
			t.Errorf("Renders = %d, want 3: the small text stays", n)
		}
	})

	t.Run("ForgetsTheLeastRecentlyUsedOverItsSize", func(t *testing.T) {
		a, b, c := fill("a ", 10<<10), fill("b ", 10<<10), fill("c ", 10<<10)
		cache := NewCache(50 << 10) // two texts and their HTML
		for _, s := range []string{a, b, a, c, a} {
			if _, err := cache.Render(s); err != nil {
				t.Fatal(err)
			}
		}
		if n := cache.Renders(); n != 3 {
			t.Errorf("Renders = %d, want 3: a stays, used last before c came", n)
		}
		if _, err := cache.Render(b); err != nil {
			t.Fatal(err)
		}
		if n := cache.Renders(); n != 4 {
			t.Errorf("Renders = %d, want 4: b was forgotten for c", n)
		}
	})
}
