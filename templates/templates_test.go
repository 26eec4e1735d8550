package templates_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/templates"
)

// writeDir writes files (name → content) into a fresh directory and returns
// its path.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// newRenderer makes a Renderer from the defaults and, if files is not nil,
// an override directory holding files.
func newRenderer(t *testing.T, files map[string]string) *templates.Renderer {
	t.Helper()
	dir := ""
	if files != nil {
		dir = writeDir(t, files)
	}
	r, err := templates.New(dir, specs(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// specs are the templates of every kind herald sends.
func specs(t *testing.T) []templates.Spec {
	t.Helper()
	reg, err := kinds.New(kinds.Deps{From: "Vendor <updates@vendor.test>"})
	if err != nil {
		t.Fatal(err)
	}
	return reg.Templates()
}

// notice returns the release sample, changed by edit.
func notice(t *testing.T, edit func(*kinds.ReleaseData)) *kinds.ReleaseData {
	t.Helper()
	sample, ok := newRenderer(t, nil).Sample("release")
	if !ok {
		t.Fatal(`Sample("release") not found`)
	}
	n := sample.(*kinds.ReleaseData)
	if edit != nil {
		edit(n)
	}
	return n
}

func render(t *testing.T, r *templates.Renderer, locale string, data any) templates.Message {
	t.Helper()
	msg, err := r.Render("release", locale, data)
	if err != nil {
		t.Fatalf("Render(release, %q): %v", locale, err)
	}
	return msg
}

// releaseOnly keeps the release template's entry of a listing: the tests
// of overrides are about it.
func releaseOnly(list []templates.Info) []templates.Info {
	var out []templates.Info
	for _, in := range list {
		if in.Name == "release" {
			out = append(out, in)
		}
	}
	return out
}

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("LoadsEmbeddedDefaults", func(t *testing.T) {
		t.Parallel()
		r := newRenderer(t, nil)

		want := []templates.Info{{Name: "release", Locales: []string{"de", "en"}, Overridden: []string{}}}
		if diff := cmp.Diff(want, releaseOnly(r.List())); diff != "" {
			t.Errorf("List() mismatch (-want +got):\n%s", diff)
		}
		msg := render(t, r, "", notice(t, nil))
		if diff := cmp.Diff("Jira 9.4 is available", msg.Subject); diff != "" {
			t.Errorf("Subject mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("OverrideReplacesDefaultSubject", func(t *testing.T) {
		t.Parallel()
		r := newRenderer(t, map[string]string{
			"release.subject.tmpl": "New: {{.Release.Product}} {{.Release.Version}}\n",
		})

		msg := render(t, r, "en", notice(t, nil))
		if diff := cmp.Diff("New: jira 9.4.0", msg.Subject); diff != "" {
			t.Errorf("Subject mismatch (-want +got):\n%s", diff)
		}
		// The German subject is a file of its own and stays.
		de := render(t, r, "de", notice(t, nil))
		if diff := cmp.Diff("Jira 9.4 ist verfügbar", de.Subject); diff != "" {
			t.Errorf("German subject mismatch (-want +got):\n%s", diff)
		}
		want := []templates.Info{{Name: "release", Locales: []string{"de", "en"}, Overridden: []string{"release.subject.tmpl"}}}
		if diff := cmp.Diff(want, releaseOnly(r.List())); diff != "" {
			t.Errorf("List() mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("NewLocaleFallsBackPartByPart", func(t *testing.T) {
		t.Parallel()
		r := newRenderer(t, map[string]string{
			"release.fr.subject.tmpl": "{{.Release.Title}} est disponible",
		})
		data := notice(t, nil)
		en := render(t, r, "en", data)

		for _, locale := range []string{"fr", "fr-CA"} {
			t.Run(locale, func(t *testing.T) {
				msg := render(t, r, locale, data)
				if diff := cmp.Diff("Jira 9.4 est disponible", msg.Subject); diff != "" {
					t.Errorf("Subject mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(en.Text, msg.Text); diff != "" {
					t.Errorf("Text is not the default (-want +got):\n%s", diff)
				}
				if !strings.Contains(msg.HTML, "has been released") {
					t.Errorf("HTML is not the default English part:\n%s", msg.HTML)
				}
			})
		}
		want := []templates.Info{{Name: "release", Locales: []string{"de", "en", "fr"}, Overridden: []string{"release.fr.subject.tmpl"}}}
		if diff := cmp.Diff(want, releaseOnly(r.List())); diff != "" {
			t.Errorf("List() mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("OverrideReplacesLayout", func(t *testing.T) {
		t.Parallel()
		r := newRenderer(t, map[string]string{
			"layout.html.tmpl": `<html lang="{{.Lang}}"><head><title>{{.Subject}}</title></head>` +
				`<body class="acme-layout">{{template "content" .Data}}</body></html>`,
		})

		for _, locale := range []string{"en", "de"} {
			msg := render(t, r, locale, notice(t, nil))
			if !strings.Contains(msg.HTML, `<body class="acme-layout">`) {
				t.Errorf("%s: HTML does not use the replaced layout:\n%s", locale, msg.HTML)
			}
			if !strings.Contains(msg.HTML, "<strong>Jira 9.4</strong>") {
				t.Errorf("%s: HTML lacks the content:\n%s", locale, msg.HTML)
			}
		}
		want := []templates.Info{{Name: "release", Locales: []string{"de", "en"}, Overridden: []string{"layout.html.tmpl"}}}
		if diff := cmp.Diff(want, releaseOnly(r.List())); diff != "" {
			t.Errorf("List() mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestNewRefusesBrokenTemplates(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		files map[string]string
		dir   string // instead of files
		want  []string
	}{
		{
			name:  "UnclosedAction",
			files: map[string]string{"release.text.tmpl": "Hello,\n\n{{.Release.Title"},
			want:  []string{"release.text.tmpl:3", "unclosed action"},
		},
		{
			name:  "UnclosedActionMidFile",
			files: map[string]string{"release.text.tmpl": "Hello,\n\n{{.Release.Title}\n\nBye.\n"},
			want:  []string{"release.text.tmpl:3"},
		},
		{
			name:  "ParseErrorInHTML",
			files: map[string]string{"release.html.tmpl": "<p>Hello,</p>\n{{end}}\n<p>Bye.</p>\n"},
			want:  []string{"release.html.tmpl:2"},
		},
		{
			name:  "ParseErrorInLayout",
			files: map[string]string{"layout.html.tmpl": "<html>\n<body>\n{{template \"content\" .Data}\n</body></html>\n"},
			want:  []string{"layout.html.tmpl:3"},
		},
		{
			name:  "UnknownFieldOnSample",
			files: map[string]string{"release.text.tmpl": "Hello,\n\n{{.Release.Nope}}\n"},
			want:  []string{"release.text.tmpl:3", "Nope"},
		},
		{
			name:  "IndexOutOfRangeOnSampleInHTML",
			files: map[string]string{"release.html.tmpl": "<p>Hello,</p>\n\n<p>{{index .Licenses 99}}</p>\n"},
			want:  []string{"release.html.tmpl:3", "index"},
		},
		{
			name:  "UnknownFieldInLocaleVariant",
			files: map[string]string{"release.de.subject.tmpl": "{{.Release.Titel}} ist da"},
			want:  []string{"release.de.subject.tmpl:1", "Titel"},
		},
		{
			name:  "UnknownTemplateName",
			files: map[string]string{"nosuch.subject.tmpl": "Hi"},
			want:  []string{"nosuch.subject.tmpl", `no template called "nosuch"`, "release"},
		},
		{
			name:  "BadlyNamedFile",
			files: map[string]string{"release.txt": "Hello {{.Recipient.Name}}"},
			want:  []string{"release.txt", "NAME.PART.tmpl"},
		},
		{
			name:  "BadlyNamedTemplateFile",
			files: map[string]string{"release.txt.tmpl": "Hello {{.Recipient.Name}}"},
			want:  []string{"release.txt.tmpl", "NAME.PART.tmpl"},
		},
		{
			name: "MissingDirectory",
			dir:  filepath.Join(os.TempDir(), "herald-templates-test-does-not-exist"),
			want: []string{"HERALD_TEMPLATES_DIR", "herald-templates-test-does-not-exist"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := tt.dir
			if tt.files != nil {
				dir = writeDir(t, tt.files)
			}
			r, err := templates.New(dir, specs(t))
			if err == nil {
				t.Fatalf("New succeeded (List: %+v), want an error naming %q", r.List(), tt.want)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestNewIgnoresHiddenFiles(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, map[string]string{
		".DS_Store":            "\x00\x01",
		"release.subject.tmpl": "Out now: {{.Release.Title}}",
	})

	if diff := cmp.Diff("Out now: Jira 9.4", render(t, r, "", notice(t, nil)).Subject); diff != "" {
		t.Errorf("Subject mismatch (-want +got):\n%s", diff)
	}
}

func TestRenderEscaping(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, nil)

	t.Run("RecipientNameEscapedInHTMLVerbatimInText", func(t *testing.T) {
		t.Parallel()
		const name = "<script>alert(1)</script>"
		data := notice(t, func(n *kinds.ReleaseData) { n.Recipient.Name = name })

		for _, locale := range []string{"en", "de"} {
			msg := render(t, r, locale, data)
			if strings.Contains(strings.ToLower(msg.HTML), "<script") {
				t.Errorf("%s: HTML holds a <script> element:\n%s", locale, msg.HTML)
			}
			if !strings.Contains(msg.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("%s: HTML does not show the name escaped:\n%s", locale, msg.HTML)
			}
			if !strings.Contains(msg.Text, " "+name+",") {
				t.Errorf("%s: text does not hold the name verbatim:\n%s", locale, msg.Text)
			}
		}
	})

	t.Run("MarkdownNotesCarryNoExecutableMarkup", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name  string
			notes string
		}{
			{name: "ScriptBlock", notes: "Intro\n\n<script>alert(1)</script>\n\nOutro\n"},
			{name: "InlineScript", notes: "Some <script>alert(1)</script> text\n"},
			{name: "ImgOnerror", notes: "Look: <img src=x onerror=alert(1)>\n"},
			{name: "ImgOnerrorBlock", notes: "<img src=x onerror=\"alert(1)\">\n"},
			{name: "JavascriptLink", notes: "[click me](javascript:alert(1))\n"},
			{name: "JavascriptLinkMixedCase", notes: "[click me](JaVaScRiPt:alert(1))\n"},
			{name: "JavascriptLinkEntity", notes: "[click me](jav&#x61;script:alert(1))\n"},
			{name: "JavascriptAutolink", notes: "<javascript:alert(1)>\n"},
			{name: "JavascriptReferenceLink", notes: "[click me][x]\n\n[x]: javascript:alert(1)\n"},
			{name: "JavascriptImage", notes: "![pic](javascript:alert(1))\n"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				msg := render(t, r, "", notice(t, func(n *kinds.ReleaseData) { n.Release.Notes = tt.notes }))
				html := strings.ToLower(msg.HTML)
				for _, bad := range []string{"<script", "onerror", `href="javascript:`, `src="javascript:`} {
					if strings.Contains(html, bad) {
						t.Errorf("HTML holds %q:\n%s", bad, msg.HTML)
					}
				}
			})
		}
	})

	t.Run("MarkdownLinkAndList", func(t *testing.T) {
		t.Parallel()
		data := notice(t, func(n *kinds.ReleaseData) {
			n.Release.Notes = "* Faster boards\n* New API\n\nSee [the docs](https://example.com/docs?a=1&b=2).\n"
		})

		msg := render(t, r, "", data)
		for _, want := range []string{
			"<li>Faster boards</li>",
			"<li>New API</li>",
			`<a href="https://example.com/docs?a=1&amp;b=2">the docs</a>`,
		} {
			if !strings.Contains(msg.HTML, want) {
				t.Errorf("HTML lacks %q:\n%s", want, msg.HTML)
			}
		}
	})
}

func TestRenderSubjectIsOneLine(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, nil)
	data := notice(t, func(n *kinds.ReleaseData) {
		n.Release.Title = "Jira\r\n9.4\tBcc: mallory@example.com\n"
	})

	tests := []struct {
		locale string
		want   string
	}{
		{locale: "en", want: "Jira 9.4 Bcc: mallory@example.com is available"},
		{locale: "de", want: "Jira 9.4 Bcc: mallory@example.com ist verfügbar"},
	}
	for _, tt := range tests {
		t.Run(tt.locale, func(t *testing.T) {
			t.Parallel()
			msg := render(t, r, tt.locale, data)
			if strings.ContainsAny(msg.Subject, "\r\n") {
				t.Errorf("Subject %q spans lines", msg.Subject)
			}
			if diff := cmp.Diff(tt.want, msg.Subject); diff != "" {
				t.Errorf("Subject mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderLocaleFallback(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, nil)
	data := notice(t, nil)

	// What each language's parts say, trimmed to what tells them apart.
	type parts struct{ Subject, Greeting, Released string }
	byLanguage := map[string]parts{
		"en": {Subject: "Jira 9.4 is available", Greeting: "Hello", Released: "has been released."},
		"de": {Subject: "Jira 9.4 ist verfügbar", Greeting: "Hallo", Released: "ist erschienen."},
	}

	tests := []struct {
		locale string
		want   string // language of the rendered message
	}{
		{locale: "", want: "en"},
		{locale: "en", want: "en"},
		{locale: "de", want: "de"},
		{locale: "de-AT", want: "de"},
		{locale: "de-CH-1996", want: "de"},
		{locale: "pt-BR", want: "en"},
		{locale: "pt", want: "en"},
		// Locales are matched as given, case and all: the contacts package
		// stores them canonical ("de", "de-AT"), so "DE" is not German and
		// falls back to the default.
		{locale: "DE", want: "en"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("Locale%q", tt.locale), func(t *testing.T) {
			t.Parallel()
			msg := render(t, r, tt.locale, data)

			greeting, _, _ := strings.Cut(msg.Text, " ")
			got := parts{Subject: msg.Subject, Greeting: greeting}
			for _, p := range byLanguage {
				if strings.Contains(msg.HTML, p.Released) {
					got.Released = p.Released
				}
			}
			if diff := cmp.Diff(byLanguage[tt.want], got); diff != "" {
				t.Errorf("Render(release, %q) is not in %s (-want +got):\n%s", tt.locale, tt.want, diff)
			}
		})
	}

	t.Run("UnknownTemplate", func(t *testing.T) {
		t.Parallel()
		_, err := r.Render("nosuch", "en", data)
		if !errors.Is(err, templates.ErrUnknown) {
			t.Errorf("Render(nosuch) error = %v, want errors.Is ErrUnknown", err)
		}
		if _, ok := r.Sample("nosuch"); ok {
			t.Error(`Sample("nosuch") found a sample`)
		}
	})
}

func TestRenderConcurrently(t *testing.T) {
	t.Parallel()
	r := newRenderer(t, map[string]string{
		"release.fr.subject.tmpl": "{{.Release.Title}} est disponible",
	})
	locales := []string{"", "en", "de", "de-AT", "fr", "fr-CA", "pt-BR"}

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			name := fmt.Sprintf("Reader %d", i)
			data := notice(t, func(n *kinds.ReleaseData) { n.Recipient.Name = name })
			for j := range 50 {
				locale := locales[(i+j)%len(locales)]
				msg, err := r.Render("release", locale, data)
				if err != nil {
					t.Errorf("Render(release, %q): %v", locale, err)
					return
				}
				if !strings.Contains(msg.Text, " "+name+",") || !strings.Contains(msg.HTML, " "+name+",") {
					t.Errorf("Render(release, %q) for %s holds another recipient:\n%s", locale, name, msg.Text)
					return
				}
				_ = r.List()
			}
		})
	}
	wg.Wait()
}
