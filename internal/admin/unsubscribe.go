package admin

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/unsubscribe"
)

var unsubscribePage = template.Must(template.New("unsubscribe").Parse(`<!DOCTYPE html>
<html lang="{{.Text.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#172b4d;line-height:1.5}
button{font-size:1rem;padding:.6rem 1.2rem;background:#0052cc;color:#fff;border:0;border-radius:4px;cursor:pointer}</style>
</head><body>
<h1>{{.Title}}</h1>
{{if .Done}}<p>{{.Text.DoneBefore}}{{.Email}}{{.Text.DoneAfter}}</p>
<p><a href="/account/preferences">{{.Text.Manage}}</a></p>
{{else if .Email}}<p>{{.Text.AskBefore}}<strong>{{.Email}}</strong>{{.Text.AskAfter}}</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">{{.Text.Button}}</button></form>
{{else}}<p>{{.Text.Invalid}}</p>{{end}}
</body></html>
`))

type unsubscribeView struct {
	Title string
	Email string
	Done  bool
	Text  unsubscribeText
}

func (s *Server) writeUnsubscribePage(w http.ResponseWriter, status int, v unsubscribeView) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Text.Lang)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return unsubscribePage.Execute(w, v)
}

// optOutOf is what a link of each category opts out of: a release
// notice's link out of release notices, a broadcast's out of broadcasts,
// and a link sent before the two were told apart out of both.
var optOutOf = func() map[string]contacts.ContactPatch {
	yes := true
	return map[string]contacts.ContactPatch{
		unsubscribe.CategoryReleases:      {ReleaseOptOut: &yes},
		unsubscribe.CategoryBroadcasts:    {BroadcastOptOut: &yes},
		unsubscribe.CategoryAnnouncements: {ReleaseOptOut: &yes, BroadcastOptOut: &yes},
	}
}()

// unsubscribeForm shows what the link does and a button to confirm: a GET
// must change nothing, as mail scanners follow links.
func (s *Server) unsubscribeForm(w http.ResponseWriter, r *http.Request) error {
	email, category, err := s.unsubscribe.Check(r.PathValue("token"))
	if _, known := optOutOf[category]; err != nil || !known {
		text := s.unsubscribeText(r, "")
		return s.writeUnsubscribePage(w, http.StatusNotFound, unsubscribeView{Title: text.TitleInvalid, Text: text})
	}
	text := s.unsubscribeText(r, email).about(category)
	return s.writeUnsubscribePage(w, http.StatusOK, unsubscribeView{Title: text.TitleAsk, Email: email, Text: text})
}

// unsubscribeNow opts the contact out (RFC 8058 one-click, or the button).
func (s *Server) unsubscribeNow(w http.ResponseWriter, r *http.Request) error {
	email, category, err := s.unsubscribe.Check(r.PathValue("token"))
	patch, known := optOutOf[category]
	if err != nil || !known {
		text := s.unsubscribeText(r, "")
		return s.writeUnsubscribePage(w, http.StatusNotFound, unsubscribeView{Title: text.TitleInvalid, Text: text})
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096) // the one-click body is one short field
	_ = r.ParseForm()
	text := s.unsubscribeText(r, email).about(category)
	done := unsubscribeView{Title: text.TitleDone, Email: email, Done: true, Text: text}
	_, err = s.contacts.UpdateContact(r.Context(), email, patch)
	if errors.Is(err, fault.ErrNotFound) {
		// The contact was deleted: there is nothing left to send them.
		return s.writeUnsubscribePage(w, http.StatusOK, done)
	}
	if err != nil {
		return err
	}
	s.logger.Info("contact unsubscribed through a link")
	return s.writeUnsubscribePage(w, http.StatusOK, done)
}

// unsubscribeText is the page's wording in the language of the contact
// whose link it is; for a link that names no one (or someone herald no
// longer knows), in the language the browser asks for.
func (s *Server) unsubscribeText(r *http.Request, email string) unsubscribeText {
	if email != "" {
		c, err := s.contacts.GetContact(r.Context(), email)
		if err == nil {
			return unsubscribeTextFor(c.Locale)
		}
		if !errors.Is(err, fault.ErrNotFound) {
			s.logger.Warn("unsubscribe page: the contact's locale could not be read; the page speaks the browser's language", "err", err)
		}
	}
	return unsubscribeTextFor(r.Header.Get("Accept-Language"))
}
