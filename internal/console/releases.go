package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/web"
)

// releaseForm is the release form as sent, kept as typed to be shown
// again.
type releaseForm struct {
	Product, Version, Title, Notes, URL, SendAt string
}

func readRelease(v *visit) releaseForm {
	r := v.r
	return releaseForm{
		Product: r.PostFormValue("product"), Version: r.PostFormValue("version"), Title: r.PostFormValue("title"),
		Notes: strings.ReplaceAll(r.PostFormValue("notes"), "\r\n", "\n"), URL: strings.TrimSpace(r.PostFormValue("url")),
		SendAt: strings.TrimSpace(r.PostFormValue("send_at")),
	}
}

func (f releaseForm) values() url.Values {
	return url.Values{"product": {f.Product}, "version": {f.Version}, "title": {f.Title}, "notes": {f.Notes}, "url": {f.URL}, "send_at": {f.SendAt}}
}

var (
	releaseFields = []string{"product", "version", "title", "notes", "url", "send_at", "form"}
	releaseLabels = map[string]string{"product": "Product", "version": "Version", "title": "Title", "notes": "Notes", "url": "URL", "send_at": "Send at"}
)

// releaseCheck is a release form checked: the release, whom its notice
// reaches now, what is wrong by field, and the announcement of the same
// version when it was announced before.
type releaseCheck struct {
	nr        ledger.NewRelease
	count     contacts.AudienceCount
	errs      map[string]string
	announced int64
}

// checkRelease checks the form as the ledger checks a release, then that
// the product is known, that the version is new, and that someone would
// hear of it.
func (c *Console) checkRelease(v *visit, f releaseForm, confirmed bool) (releaseCheck, error) {
	ch := releaseCheck{errs: map[string]string{}}
	sendAt, err := v.sendAt(f.SendAt, c.Ledger.Now(), confirmed)
	if err != nil && !addFault(ch.errs, releaseLabels, err) {
		return ch, err
	}
	ch.nr = ledger.NewRelease{Product: f.Product, Version: f.Version, Title: f.Title, Notes: f.Notes, URL: f.URL, SendAt: sendAt}
	if err := ch.nr.Normalize(); err != nil {
		if !addFault(ch.errs, releaseLabels, err) {
			return ch, err
		}
		return ch, nil
	}
	if err := c.knownProduct(v, "product", ch.nr.Product); err != nil {
		if !addFault(ch.errs, releaseLabels, err) {
			return ch, err
		}
		return ch, nil
	}
	rel, found, err := c.Ledger.FindRelease(v.ctx(), ch.nr.Product, ch.nr.Version)
	if err != nil {
		return ch, err
	}
	if found {
		ch.announced = rel.AnnouncementID
		ch.errs["version"] = fmt.Sprintf("Version: %s %s was announced already; announcing it again would send nothing.", rel.Product, rel.Version)
		return ch, nil
	}
	if len(ch.errs) > 0 {
		return ch, nil
	}
	if ch.count, err = (kinds.ReleaseAudience{Product: ch.nr.Product}).Count(v.ctx(), c.Contacts); err != nil {
		return ch, err
	}
	if ch.count.Recipients == 0 {
		ch.errs["product"] = fmt.Sprintf("Product: no one would hear of it. No technical contact of an active %s license is left who has not opted out of release notices or been suppressed.", ch.nr.Product)
	}
	return ch, nil
}

// status is the answer to a form with problems: a conflict when the one
// problem is a version announced before, else bad input.
func (ch releaseCheck) status() int {
	if ch.announced != 0 && len(ch.errs) == 1 {
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func (c *Console) previewRelease(v *visit, ch releaseCheck) (*previewView, error) {
	info := kinds.ReleaseInfo{Product: ch.nr.Product, Version: ch.nr.Version, Title: ch.nr.Title, Notes: ch.nr.Notes, URL: ch.nr.URL}
	msg, err := c.Tester.PreviewRelease(v.ctx(), info, ch.count.Sample[0])
	if err != nil {
		return nil, err
	}
	return newPreview(ch.count, msg), nil
}

func (c *Console) newRelease(v *visit) error {
	return c.showRelease(v, http.StatusOK, releaseForm{}, releaseCheck{}, nil)
}

// showRelease renders the release form as sent, its problems and its
// preview.
func (c *Console) showRelease(v *visit, status int, f releaseForm, ch releaseCheck, preview *previewView) error {
	products, err := c.products(v)
	if err != nil {
		return err
	}
	view := composeView{CSRF: c.csrf(v), Kind: "release", Crumb: "Announce a release",
		PreviewAction: "/console/releases/preview", ContinueAction: "/console/releases/confirm",
		Release: f, SendAt: f.SendAt, Zone: v.me.Location().String(), Errors: ch.errs, Preview: preview}
	if ch.announced != 0 {
		view.Announced = "/console/announcements/" + strconv.FormatInt(ch.announced, 10)
	}
	if f.Product == "" {
		view.Products = append(view.Products, option{Value: "", Label: "Choose a product", Selected: true})
	}
	for _, p := range products {
		view.Products = append(view.Products, option{Value: p.Key, Label: productLabel(p), Selected: p.Key == strings.ToLower(strings.TrimSpace(f.Product))})
	}
	c.previewPolicy(v, kinds.Release, preview)
	return c.render(v, status, pageCompose, "Announce a release", "announcements", view)
}

func (c *Console) refuseRelease(v *visit, f releaseForm, ch releaseCheck, flash bool) error {
	if flash {
		v.flash = errorFlash(ch.errs, releaseFields...)
	}
	return c.showRelease(v, ch.status(), f, ch, problems(ch.errs, releaseFields...))
}

// previewReleaseForm is the Preview button, and what the form's script
// fetches as the form is typed.
func (c *Console) previewReleaseForm(v *visit) error {
	f := readRelease(v)
	ch, err := c.checkRelease(v, f, false)
	if err != nil {
		return err
	}
	if len(ch.errs) > 0 {
		return c.refuseRelease(v, f, ch, false)
	}
	preview, err := c.previewRelease(v, ch)
	if err != nil {
		return err
	}
	return c.showRelease(v, http.StatusOK, f, ch, preview)
}

// confirmRelease is the Continue button: the confirmation states the count
// and the time before anything is stored.
func (c *Console) confirmRelease(v *visit) error {
	f := readRelease(v)
	ch, err := c.checkRelease(v, f, false)
	if err != nil {
		return err
	}
	if len(ch.errs) > 0 {
		return c.refuseRelease(v, f, ch, true)
	}
	return c.showReleaseConfirm(v, http.StatusOK, f, ch)
}

func (c *Console) showReleaseConfirm(v *visit, status int, f releaseForm, ch releaseCheck) error {
	name, err := c.Contacts.ProductName(v.ctx(), ch.nr.Product)
	if err != nil {
		return err
	}
	title := ch.nr.Title
	if title == "" {
		title = name + " " + ch.nr.Version // as the ledger will call it
	}
	n, noun := ch.count.Recipients, plural(ch.count.Recipients, "recipient")
	verb, button := "Announce", fmt.Sprintf("Announce to %d %s", n, noun)
	if !ch.nr.SendAt.IsZero() {
		verb, button = "Schedule", fmt.Sprintf("Schedule for %d %s", n, noun)
	}
	link := ch.nr.URL
	if link == "" {
		link = "None"
	}
	values := f.values()
	values.Set("count", strconv.Itoa(n))
	view := confirmView{CSRF: c.csrf(v), Crumb: "Announce a release",
		Question: fmt.Sprintf("%s “%s” to %d %s?", verb, title, n, noun),
		Facts: []fact{
			{"Recipients", recipientsFact(ch.count)},
			{"When", v.when(ch.nr.SendAt)},
			{"Audience", fmt.Sprintf("Technical contacts of the active %s licenses", name)},
			{"Release", fmt.Sprintf("%s %s", ch.nr.Product, ch.nr.Version)},
			{"URL", link},
		},
		Sample: sampleRows(ch.count), More: n - len(ch.count.Sample),
		Hidden: hidden(values), Action: "/console/releases", Back: "/console/releases/preview", Button: button}
	return c.render(v, status, pageConfirm, "Confirm the release notice", "announcements", view)
}

// createRelease records the release confirmed and starts its notice, or
// schedules it, once the audience is counted again as for a broadcast.
// The same version announced meanwhile creates nothing and says so.
func (c *Console) createRelease(v *visit) error {
	f := readRelease(v)
	ch, err := c.checkRelease(v, f, true)
	if err != nil {
		return err
	}
	if len(ch.errs) > 0 {
		return c.refuseRelease(v, f, ch, true)
	}
	if stated := countOf(v.r.PostFormValue("count")); stated != ch.count.Recipients {
		v.flash = &web.Flash{Kind: "error", Text: fmt.Sprintf("The audience changed since the count was shown: it is %d %s now, not %d. Nothing was sent; check the new count and confirm again.",
			ch.count.Recipients, plural(ch.count.Recipients, "recipient"), stated)}
		return c.showReleaseConfirm(v, http.StatusConflict, f, ch)
	}
	rel, a, created, err := c.Ledger.CreateRelease(v.ctx(), ch.nr, kinds.ReleaseAnnouncement)
	if err != nil {
		return err
	}
	if !created {
		// Announced by someone else since the check: nothing new.
		ch.announced = a.ID
		ch.errs["version"] = fmt.Sprintf("Version: %s %s was announced already; announcing it again would send nothing.", rel.Product, rel.Version)
		return c.refuseRelease(v, f, ch, true)
	}
	c.Control.Started(v.ctx(), v.actor(), a)
	// As for broadcasts, the audit log cannot take an announcement: the
	// log line and the ledger keep who announced what.
	c.Logger.Info("console: release announced", "announcement", a.ID, "product", rel.Product, "version", rel.Version,
		"status", a.Status, "recipients", ch.count.Recipients, "send_at", a.SendAt, "by", v.me.Email)
	c.setFlash(v, "ok", startedText(v, ch.count.Recipients, ch.nr.SendAt))
	return seeOther(v, "/console/announcements/"+strconv.FormatInt(a.ID, 10))
}
