package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/templates"
)

type templatesView struct {
	Rows []templateRow
}

type templateRow struct {
	Name, Href string
	Locales    []option // Value: the preview's address, Label: the locale
	Overridden []string
}

func templateHref(name, locale string) string {
	return "/console/templates/" + url.PathEscape(name) + "?" + url.Values{"locale": {locale}}.Encode()
}

// templateList lists the mail's templates, their locales and the files
// that come from the override directory (HERALD_TEMPLATES_DIR).
func (c *Console) templateList(v *visit) error {
	var view templatesView
	for _, in := range c.Renderer.List() {
		row := templateRow{Name: in.Name, Href: templateHref(in.Name, templates.DefaultLocale), Overridden: in.Overridden}
		for _, l := range in.Locales {
			row.Locales = append(row.Locales, option{Value: templateHref(in.Name, l), Label: l})
		}
		view.Rows = append(view.Rows, row)
	}
	return c.render(v, http.StatusOK, pageTemplates, "Templates", "operations/templates", view)
}

type templateView struct {
	Name, Action string
	Locales      []option
	Overridden   []string
	// Subject, HTML and Text are the message rendered on the template's
	// sample data; HTML goes into a sandboxed frame's srcdoc, escaped.
	Subject, HTML, Text string
	Error               string
}

// templatePreview renders a template on its sample data in the locale
// picked (a GET form), as a recipient of that locale would get it.
//
// The HTML part is shown in <iframe sandbox srcdoc>: sandboxed without
// allow-scripts, so nothing in it runs, and as a document of its own, so
// its styles stay in it. A srcdoc document inherits the page's
// Content-Security-Policy, though, and the strict one refuses the inline
// style attributes that mail is written with: the mail would show
// unstyled. So this page, and only this one, allows those exact styles by
// their hashes ('unsafe-hashes' for style attributes): nothing else
// inline is let in, and the console's own pages keep the strict policy.
func (c *Console) templatePreview(v *visit) error {
	name := v.r.PathValue("name")
	i := slices.IndexFunc(c.Renderer.List(), func(in templates.Info) bool { return in.Name == name })
	if i < 0 {
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such template.")
		return nil
	}
	info := c.Renderer.List()[i]
	view := templateView{Name: info.Name, Action: "/console/templates/" + url.PathEscape(info.Name), Overridden: info.Overridden}
	status := http.StatusOK
	locale := v.r.URL.Query().Get("locale")
	if locale == "" {
		locale = templates.DefaultLocale
	}
	if !slices.Contains(info.Locales, locale) {
		view.Error = fmt.Sprintf("locale: %s has no %q; pick one of %s.", info.Name, fault.Shorten(locale, fault.MaxEcho), strings.Join(info.Locales, ", "))
		status, locale = http.StatusBadRequest, templates.DefaultLocale
	}
	for _, l := range info.Locales {
		view.Locales = append(view.Locales, option{Value: l, Label: l, Selected: l == locale})
	}
	data, _ := c.Renderer.Sample(info.Name)
	msg, err := c.Renderer.Render(info.Name, locale, data)
	if err != nil {
		// Every template is tried on its sample data at start: this is
		// not the template's fault but herald's.
		return fmt.Errorf("preview %s in %s: %w", info.Name, locale, err)
	}
	view.Subject, view.HTML, view.Text = msg.Subject, msg.HTML, msg.Text
	v.policy = web.Policy{Styles: web.StyleHashes(msg.HTML)}
	return c.render(v, status, pageTemplate, "Template "+info.Name, "operations/templates", view)
}
