// Package templates renders herald's mail: for each template name a
// subject, a plain-text part and an HTML part set in one shared layout, in
// the recipient's locale when a variant exists. Defaults are embedded; files
// of the same name in an override directory replace them. Every template is
// parsed and tried on sample data when the Renderer is made, so a broken one
// stops start-up, with its file and line, instead of a send at 3 a.m.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	texttemplate "text/template"

	"github.com/heraldhq/herald/internal/markdown"
)

//go:embed defaults/*.tmpl
var defaults embed.FS

// DefaultLocale is the locale of the files without a locale in their name.
const DefaultLocale = "en"

const layoutFile = "layout.html.tmpl"

// Parts of a message, as they appear in file names: NAME[.LOCALE].PART.tmpl.
const (
	partSubject = "subject"
	partText    = "text"
	partHTML    = "html"
)

var fileName = regexp.MustCompile(`^([a-z][a-z0-9_]*)(?:\.([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*))?\.(subject|text|html)\.tmpl$`)

// Message is a rendered message.
type Message struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

// Info describes one template for listings.
type Info struct {
	Name       string   `json:"name"`
	Locales    []string `json:"locales"`
	Overridden []string `json:"overridden"` // files that come from the override directory
}

// Spec is a template herald renders: its name, and a constructor of its
// data filled with a sample, which every file of the template is tried on
// at start and which previews use when given no data. Each kind of
// announcement (package kinds) brings its own.
type Spec struct {
	Name   string
	Sample func() any
}

// Renderer renders messages from parsed templates. It is safe for
// concurrent use.
type Renderer struct {
	specs map[string]Spec
	// parts[name][locale]; the default locale is "".
	subjects map[string]map[string]*texttemplate.Template
	texts    map[string]map[string]*texttemplate.Template
	htmls    map[string]map[string]*htmltemplate.Template
	info     []Info
	// markdown holds the HTML of the Markdown rendered lately: the notes
	// of a release are the same for every recipient.
	markdown *markdown.Cache
}

// markdownCacheBytes bounds the Markdown and HTML a Renderer keeps: some
// dozens of announcements at the 64 KiB limit.
const markdownCacheBytes = 16 << 20

// source is one template file and where it came from.
type source struct {
	file, name, locale, part string
	text                     string
	overridden               bool
}

// New parses the embedded templates of specs, replaced or extended by the
// files in overrideDir (if not empty), and tries every one on its sample
// data.
func New(overrideDir string, specs []Spec) (*Renderer, error) {
	files := make(map[string]source)
	if err := collect(files, defaults, "defaults", false); err != nil {
		return nil, err
	}
	if overrideDir != "" {
		if err := collect(files, os.DirFS(overrideDir), ".", true); err != nil {
			return nil, fmt.Errorf("HERALD_TEMPLATES_DIR %s: %w", overrideDir, err)
		}
	}
	r := &Renderer{
		specs:    map[string]Spec{},
		subjects: map[string]map[string]*texttemplate.Template{},
		texts:    map[string]map[string]*texttemplate.Template{},
		htmls:    map[string]map[string]*htmltemplate.Template{},
		markdown: markdown.NewCache(markdownCacheBytes),
	}
	for _, spec := range specs {
		r.specs[spec.Name] = spec
	}
	if err := r.parse(files); err != nil {
		return nil, err
	}
	if err := r.index(files); err != nil {
		return nil, err
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// parse parses every file, each content template set in the layout.
func (r *Renderer) parse(files map[string]source) error {
	layout, ok := files[layoutFile]
	if !ok {
		return fmt.Errorf("%s is missing", layoutFile)
	}
	funcs := r.htmlFuncs()
	base, err := htmltemplate.New(layoutFile).Funcs(funcs).Parse(layout.text)
	if err != nil {
		return err
	}
	for _, src := range sortedSources(files) {
		if src.file == layoutFile {
			continue
		}
		if _, known := r.specs[src.name]; !known {
			return fmt.Errorf("%s: there is no template called %q (known: %s)", src.file, src.name, strings.Join(r.Names(), ", "))
		}
		switch src.part {
		case partSubject, partText:
			t, err := texttemplate.New(src.file).Funcs(localeFuncs(src.locale)).Option("missingkey=error").Parse(src.text)
			if err != nil {
				return err
			}
			target := r.texts
			if src.part == partSubject {
				target = r.subjects
			}
			put(target, src.name, src.locale, t)
		case partHTML:
			content, err := htmltemplate.New(src.file).Funcs(funcs).Funcs(localeFuncs(src.locale)).Option("missingkey=error").Parse(src.text)
			if err != nil {
				return err
			}
			t, err := base.Clone()
			if err != nil {
				return err
			}
			t.Funcs(localeFuncs(src.locale))
			if _, err := t.AddParseTree("content", content.Tree); err != nil {
				return fmt.Errorf("%s: %w", src.file, err)
			}
			put(r.htmls, src.name, src.locale, t)
		}
	}
	return nil
}

// index lists, for each template, its locales and the files that come from
// the override directory; every template must have all three default parts.
func (r *Renderer) index(files map[string]source) error {
	infos := map[string]*Info{}
	for _, name := range r.Names() {
		infos[name] = &Info{Name: name, Locales: []string{}, Overridden: []string{}}
	}
	for _, src := range sortedSources(files) {
		if src.file == layoutFile {
			continue
		}
		in := infos[src.name]
		locale := src.locale
		if locale == "" {
			locale = DefaultLocale
		}
		if !slices.Contains(in.Locales, locale) {
			in.Locales = append(in.Locales, locale)
		}
		if src.overridden {
			in.Overridden = append(in.Overridden, src.file)
		}
	}
	for _, name := range r.Names() {
		for _, part := range []string{partSubject, partText, partHTML} {
			if !r.has(name, "", part) {
				return fmt.Errorf("template %s has no %s.%s.tmpl", name, name, part)
			}
		}
		in := infos[name]
		if files[layoutFile].overridden {
			in.Overridden = append(in.Overridden, layoutFile)
		}
		sort.Strings(in.Locales)
		r.info = append(r.info, *in)
	}
	return nil
}

func put[T any](m map[string]map[string]T, name, locale string, t T) {
	if m[name] == nil {
		m[name] = map[string]T{}
	}
	m[name][locale] = t
}

func (r *Renderer) has(name, locale, part string) bool {
	switch part {
	case partSubject:
		_, ok := r.subjects[name][locale]
		return ok
	case partText:
		_, ok := r.texts[name][locale]
		return ok
	default:
		_, ok := r.htmls[name][locale]
		return ok
	}
}

// collect reads the template files of dir in fsys into files, replacing
// those of the same name. Any other file but a hidden one (.DS_Store, an
// editor's swap file) is an error: a misnamed override such as release.txt
// would otherwise be ignored without a word.
func collect(files map[string]source, fsys fs.FS, dir string, overridden bool) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := fs.ReadFile(fsys, filepath.ToSlash(filepath.Join(dir, e.Name())))
		if err != nil {
			return err
		}
		src := source{file: e.Name(), text: string(data), overridden: overridden}
		if e.Name() != layoutFile {
			m := fileName.FindStringSubmatch(e.Name())
			if m == nil {
				return fmt.Errorf("%s: a template file is named NAME.PART.tmpl or NAME.LOCALE.PART.tmpl, PART being subject, text or html", e.Name())
			}
			src.name, src.locale, src.part = m[1], m[2], m[3]
		}
		files[e.Name()] = src
	}
	return nil
}

func sortedSources(files map[string]source) []source {
	out := make([]source, 0, len(files))
	for _, s := range files {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].file < out[j].file })
	return out
}

// check renders every template in every locale on its sample data.
func (r *Renderer) check() error {
	for _, name := range r.Names() {
		locales := map[string]bool{"": true}
		for l := range r.subjects[name] {
			locales[l] = true
		}
		for l := range r.texts[name] {
			locales[l] = true
		}
		for l := range r.htmls[name] {
			locales[l] = true
		}
		for l := range locales {
			sample, _ := r.Sample(name)
			if _, err := r.Render(name, l, sample); err != nil {
				return err
			}
		}
	}
	return nil
}

// Names lists the templates this renderer knows.
func (r *Renderer) Names() []string {
	names := make([]string, 0, len(r.specs))
	for n := range r.specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Sample returns the sample data of a template, as a pointer that JSON can
// be decoded into.
func (r *Renderer) Sample(name string) (any, bool) {
	spec, ok := r.specs[name]
	if !ok {
		return nil, false
	}
	return spec.Sample(), true
}

// List describes the loaded templates.
func (r *Renderer) List() []Info { return slices.Clone(r.info) }

// ErrUnknown is returned for a template name that does not exist.
var ErrUnknown = errors.New("unknown template")

// Render renders template name for a recipient whose locale is locale (such
// as "de" or "pt-BR"), falling back part by part to the language without
// region, then to the default locale.
func (r *Renderer) Render(name, locale string, data any) (Message, error) {
	if _, ok := r.specs[name]; !ok {
		return Message{}, fmt.Errorf("%w %q", ErrUnknown, name)
	}
	chain := localeChain(locale)
	var msg Message
	var buf bytes.Buffer
	subject := pick(r.subjects[name], chain)
	if err := subject.Execute(&buf, data); err != nil {
		return Message{}, err
	}
	msg.Subject = oneLine(buf.String())
	buf.Reset()
	if err := pick(r.texts[name], chain).Execute(&buf, data); err != nil {
		return Message{}, err
	}
	msg.Text = buf.String()
	buf.Reset()
	lang := locale
	if lang == "" {
		lang = DefaultLocale
	}
	if err := pick(r.htmls[name], chain).Execute(&buf, layoutData{Lang: lang, Subject: msg.Subject, Data: data}); err != nil {
		return Message{}, err
	}
	msg.HTML = buf.String()
	return msg, nil
}

// layoutData is what the layout sees; the content template sees Data.
type layoutData struct {
	Lang    string
	Subject string
	Data    any
}

// localeChain lists the locales to try for locale: "pt-BR" → pt-BR, pt,
// default.
func localeChain(locale string) []string {
	var chain []string
	for l := locale; l != ""; {
		chain = append(chain, l)
		i := strings.LastIndex(l, "-")
		if i < 0 {
			break
		}
		l = l[:i]
	}
	return append(chain, "")
}

func pick[T any](byLocale map[string]T, chain []string) T {
	for _, l := range chain {
		if t, ok := byLocale[l]; ok {
			return t
		}
	}
	var zero T
	return zero
}

// oneLine makes a rendered subject a single line: whatever the data held,
// a subject never spans lines (and so never adds a header).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// htmlFuncs are the functions HTML templates may call.
func (r *Renderer) htmlFuncs() htmltemplate.FuncMap {
	return htmltemplate.FuncMap{
		// markdown renders Markdown written by staff or a release feed,
		// once per text (see markdown.Cache). Raw HTML in it is dropped
		// and unsafe link schemes (javascript:, …) removed.
		"markdown": func(src string) (htmltemplate.HTML, error) {
			html, err := r.markdown.Render(src)
			return htmltemplate.HTML(html), err //nolint:gosec // goldmark's safe mode output
		},
	}
}

// MarkdownRenders is how many Markdown texts this Renderer has converted
// to HTML: each text once, however many messages show it.
func (r *Renderer) MarkdownRenders() int64 { return r.markdown.Renders() }
