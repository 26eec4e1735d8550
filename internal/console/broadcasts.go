package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/web"
)

// broadcastForm is the composer's form as sent, kept as typed to be shown
// again.
type broadcastForm struct {
	Subject, Body, Licenses, SendAt string
	Roles, Products                 []string
	MainOnly                        bool
}

func readBroadcast(v *visit) broadcastForm {
	r := v.r
	return broadcastForm{
		Subject: r.PostFormValue("subject"),
		// Browsers send a textarea's lines ended by CRLF.
		Body:     strings.ReplaceAll(r.PostFormValue("body"), "\r\n", "\n"),
		Licenses: r.PostFormValue("licenses"),
		SendAt:   strings.TrimSpace(r.PostFormValue("send_at")),
		Roles:    r.PostForm["role"],
		Products: r.PostForm["product"],
		MainOnly: r.PostFormValue("main") == "on",
	}
}

func (f broadcastForm) values() url.Values {
	v := url.Values{"subject": {f.Subject}, "body": {f.Body}, "licenses": {f.Licenses}, "send_at": {f.SendAt}}
	v["role"], v["product"] = f.Roles, f.Products
	if f.MainOnly {
		v.Set("main", "on")
	}
	return v
}

// broadcastFields are the composer's fields in the order of the page, with
// the labels their problems start with.
var (
	broadcastFields = []string{"subject", "body", "audience", "roles", "products", "licenses", "send_at", "form"}
	broadcastLabels = map[string]string{"subject": "Subject", "body": "Message", "audience": "Audience", "roles": "Roles",
		"products": "Products", "licenses": "Licenses", "send_at": "Send at"}
)

// broadcastCheck is a composer's form checked: the broadcast, whom it
// reaches now, and what is wrong with it by field.
type broadcastCheck struct {
	nb    kinds.NewBroadcast
	count contacts.AudienceCount
	errs  map[string]string
}

// checkBroadcast checks the form as the API checks a broadcast, and says
// also which product or license named is unknown; the audience is counted
// only when the form is right. confirmed says the confirmation was pressed.
func (c *Console) checkBroadcast(v *visit, f broadcastForm, confirmed bool) (broadcastCheck, error) {
	ch := broadcastCheck{errs: map[string]string{}}
	sendAt, err := v.sendAt(f.SendAt, c.Ledger.Now(), confirmed)
	if err != nil && !addFault(ch.errs, broadcastLabels, err) {
		return ch, err
	}
	ch.nb = kinds.NewBroadcast{Subject: f.Subject, Body: f.Body, SendAt: sendAt,
		Audience: kinds.BroadcastAudience{Products: slices.Clone(f.Products), MainOnly: f.MainOnly}}
	for _, r := range f.Roles {
		ch.nb.Audience.Roles = append(ch.nb.Audience.Roles, contacts.Role(r))
	}
	if ids := splitList(f.Licenses); len(ids) > maxNamedLicenses {
		ch.errs["licenses"] = problem("Licenses", fmt.Sprintf("name %d licenses; at most %d can be named here", len(ids), maxNamedLicenses))
	} else {
		ch.nb.Audience.Licenses = ids
	}
	if err := ch.nb.Normalize(); err != nil {
		if !addFault(ch.errs, broadcastLabels, err) {
			return ch, err
		}
		return ch, nil
	}
	for _, p := range ch.nb.Audience.Products {
		if err := c.knownProduct(v, "audience.products", p); err != nil && !addFault(ch.errs, broadcastLabels, err) {
			return ch, err
		}
	}
	for _, id := range ch.nb.Audience.Licenses {
		_, err := c.Contacts.GetLicense(v.ctx(), id)
		if errors.Is(err, contacts.ErrNotFound) {
			ch.errs["licenses"] = problem("Licenses", fmt.Sprintf("%s is not a license herald knows", id))
			break
		}
		if err != nil {
			return ch, err
		}
	}
	if len(ch.errs) > 0 {
		return ch, nil
	}
	if ch.count, err = ch.nb.Audience.Count(v.ctx(), c.Contacts); err != nil {
		return ch, err
	}
	if ch.count.Recipients == 0 {
		ch.errs["audience"] = "Audience: no one would receive it. No contact of an active license matches, or all who do opted out of broadcasts or are suppressed."
	}
	return ch, nil
}

// preview renders the broadcast checked as the first of its sample gets
// it.
func (c *Console) previewBroadcast(ch broadcastCheck) (*previewView, error) {
	msg, err := c.Tester.Preview(ch.nb.Params(), ch.count.Sample[0], "")
	if err != nil {
		return nil, err
	}
	return newPreview(ch.count, msg), nil
}

func (c *Console) newBroadcast(v *visit) error {
	return c.showBroadcast(v, http.StatusOK, broadcastForm{}, nil, nil)
}

// showBroadcast renders the composer with the form as sent, its problems
// and its preview.
func (c *Console) showBroadcast(v *visit, status int, f broadcastForm, errs map[string]string, preview *previewView) error {
	products, err := c.products(v)
	if err != nil {
		return err
	}
	view := composeView{CSRF: c.csrf(v), Kind: "broadcast", Crumb: "New broadcast",
		PreviewAction: "/console/broadcasts/preview", TestAction: "/console/broadcasts/test", ContinueAction: "/console/broadcasts/confirm",
		Broadcast: f, SendAt: f.SendAt, Zone: v.me.Location().String(), Errors: errs, Preview: preview}
	for _, r := range contacts.Roles {
		view.Roles = append(view.Roles, option{Value: string(r), Label: string(r), Selected: slices.Contains(f.Roles, string(r))})
	}
	for _, p := range products {
		view.Products = append(view.Products, option{Value: p.Key, Label: productLabel(p), Selected: slices.Contains(f.Products, p.Key)})
	}
	c.previewPolicy(v, kinds.Broadcast, preview)
	return c.render(v, status, pageCompose, "New broadcast", "announcements", view)
}

// refuseBroadcast shows the composer again with what is wrong; nothing was
// stored or sent.
func (c *Console) refuseBroadcast(v *visit, f broadcastForm, errs map[string]string, flash bool) error {
	if flash {
		v.flash = errorFlash(errs, broadcastFields...)
	}
	return c.showBroadcast(v, http.StatusBadRequest, f, errs, problems(errs, broadcastFields...))
}

// previewBroadcastForm is the Preview button, and what the composer's
// script fetches as the form is typed.
func (c *Console) previewBroadcastForm(v *visit) error {
	f := readBroadcast(v)
	ch, err := c.checkBroadcast(v, f, false)
	if err != nil {
		return err
	}
	if len(ch.errs) > 0 {
		return c.refuseBroadcast(v, f, ch.errs, false)
	}
	preview, err := c.previewBroadcast(ch)
	if err != nil {
		return err
	}
	return c.showBroadcast(v, http.StatusOK, f, nil, preview)
}

// testBroadcast sends the broadcast to the staff member's own address
// only. It needs a subject and a message, not an audience: the page then
// says what else is wrong, but the test went.
func (c *Console) testBroadcast(v *visit) error {
	f := readBroadcast(v)
	ch, err := c.checkBroadcast(v, f, false)
	if err != nil {
		return err
	}
	for _, name := range []string{"subject", "body", "form"} {
		if _, bad := ch.errs[name]; bad {
			return c.refuseBroadcast(v, f, ch.errs, true)
		}
	}
	results, err := c.Tester.Send(v.ctx(), ch.nb.Params(), []string{v.me.Email})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if len(results) != 1 || results[0].Error != "" {
		// The relay refused it: the page says why, in the relay's words.
		status = http.StatusBadGateway
		why := "no result"
		if len(results) == 1 {
			why = results[0].Error
		}
		v.flash = &web.Flash{Kind: "error", Text: fmt.Sprintf("The test to %s could not be sent: %s", v.me.Email, why)}
	} else {
		c.Logger.Info("console: broadcast test sent", "by", v.me.Email)
		v.flash = &web.Flash{Kind: "ok", Text: fmt.Sprintf("Sent a test to %s, and to no one else. Its subject starts with [TEST].", v.me.Email)}
	}
	preview := problems(ch.errs, broadcastFields...)
	if len(ch.errs) == 0 {
		if preview, err = c.previewBroadcast(ch); err != nil {
			return err
		}
	}
	return c.showBroadcast(v, status, f, ch.errs, preview)
}

// confirmBroadcast is the Continue button: the confirmation states the
// count and the time before anything is stored.
func (c *Console) confirmBroadcast(v *visit) error {
	f := readBroadcast(v)
	ch, err := c.checkBroadcast(v, f, false)
	if err != nil {
		return err
	}
	if len(ch.errs) > 0 {
		return c.refuseBroadcast(v, f, ch.errs, true)
	}
	return c.showBroadcastConfirm(v, http.StatusOK, f, ch)
}

func (c *Console) showBroadcastConfirm(v *visit, status int, f broadcastForm, ch broadcastCheck) error {
	known, err := c.products(v)
	if err != nil {
		return err
	}
	products := make([]string, len(ch.nb.Audience.Products))
	for i, key := range ch.nb.Audience.Products {
		products[i] = key
		for _, p := range known {
			if p.Key == key {
				products[i] = productLabel(p)
			}
		}
	}
	n, noun := ch.count.Recipients, plural(ch.count.Recipients, "recipient")
	verb, button := "Send", fmt.Sprintf("Send to %d %s", n, noun)
	if !ch.nb.SendAt.IsZero() {
		verb, button = "Schedule", fmt.Sprintf("Schedule for %d %s", n, noun)
	}
	all := func(list []string, none string) string {
		if len(list) == 0 {
			return none
		}
		return strings.Join(list, ", ")
	}
	roles := make([]string, len(ch.nb.Audience.Roles))
	for i, r := range ch.nb.Audience.Roles {
		roles[i] = string(r)
	}
	mainOnly := "No: every contact in those roles"
	if ch.nb.Audience.MainOnly {
		mainOnly = "Yes: main contacts only"
	}
	values := f.values()
	values.Set("count", strconv.Itoa(n))
	view := confirmView{CSRF: c.csrf(v), Crumb: "New broadcast",
		Question: fmt.Sprintf("%s “%s” to %d %s?", verb, ch.nb.Subject, n, noun),
		Facts: []fact{
			{"Recipients", recipientsFact(ch.count)},
			{"When", v.when(ch.nb.SendAt)},
			{"Roles", all(roles, "Technical and billing")},
			{"Products", all(products, "All products")},
			{"Licenses", all(ch.nb.Audience.Licenses, "All active licenses")},
			{"Main contacts", mainOnly},
		},
		Hidden: hidden(values), Action: "/console/broadcasts", Back: "/console/broadcasts/preview", Button: button}
	view.Sample, view.More = sampleRows(ch.count), n-len(ch.count.Sample)
	return c.render(v, status, pageConfirm, "Confirm the broadcast", "announcements", view)
}

// recipientsFact states a count and what it leaves out.
func recipientsFact(count contacts.AudienceCount) string {
	s := fmt.Sprintf("%d %s", count.Recipients, plural(count.Recipients, "recipient"))
	if count.Skipped > 0 {
		s += fmt.Sprintf("; %d more match but opted out or are suppressed, and are skipped", count.Skipped)
	}
	return s
}

// createBroadcast stores the broadcast confirmed and starts it, or
// schedules it. The audience is counted again: when it changed since the
// confirmation was shown, the new count is shown instead, and nothing is
// stored.
func (c *Console) createBroadcast(v *visit) error {
	f := readBroadcast(v)
	ch, err := c.checkBroadcast(v, f, true)
	if err != nil {
		return err
	}
	if len(ch.errs) > 0 {
		return c.refuseBroadcast(v, f, ch.errs, true)
	}
	if stated := countOf(v.r.PostFormValue("count")); stated != ch.count.Recipients {
		v.flash = &web.Flash{Kind: "error", Text: fmt.Sprintf("The audience changed since the count was shown: it is %d %s now, not %d. Nothing was sent; check the new count and confirm again.",
			ch.count.Recipients, plural(ch.count.Recipients, "recipient"), stated)}
		return c.showBroadcastConfirm(v, http.StatusConflict, f, ch)
	}
	a, err := kinds.CreateBroadcast(v.ctx(), c.Ledger, ch.nb)
	if err != nil {
		return err
	}
	c.Control.Started(v.ctx(), v.actor(), a)
	// The audit log takes changes to contacts, tokens and suppressions
	// only (its actions are a CHECK of the schema): an announcement is
	// logged here, and the ledger keeps it.
	c.Logger.Info("console: broadcast created", "announcement", a.ID, "status", a.Status, "recipients", ch.count.Recipients, "send_at", a.SendAt, "by", v.me.Email)
	c.setFlash(v, "ok", startedText(v, ch.count.Recipients, ch.nb.SendAt))
	return seeOther(v, "/console/announcements/"+strconv.FormatInt(a.ID, 10))
}

// startedText is the flash of an announcement made: sent now, or when.
func startedText(v *visit, n int, sendAt time.Time) string {
	if sendAt.IsZero() {
		return fmt.Sprintf("Sending to %d %s.", n, plural(n, "recipient"))
	}
	return fmt.Sprintf("Scheduled for %d %s: %s.", n, plural(n, "recipient"), v.when(sendAt))
}
