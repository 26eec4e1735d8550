package console

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/templates"
)

// What the composers of broadcasts and releases share: the page with its
// preview, the confirmation, the time to send at, and the policy that
// lets the preview show the message with its styles.
//
// Nothing is stored until the confirmation's button is pressed: Preview,
// "Send a test to me" and Continue each check the form and count the
// audience again, and the confirmation's POST counts once more, so that
// what is sent is what the staff member was shown.

// maxCompose bounds a composer's form: a message of markdown.MaxBytes,
// percent-encoded (up to three bytes a byte), and a few short fields.
const maxCompose = 256 << 10

// maxNamedLicenses bounds the licenses a broadcast's form names: each is
// looked up, to say which one is unknown.
const maxNamedLicenses = 100

// composeView is a composer: the form as sent, its problems by field, and
// the preview of who receives the message and how it reads.
type composeView struct {
	CSRF string
	// Kind is the form shown: "broadcast" or "release".
	Kind  string
	Crumb string
	// PreviewAction, TestAction and ContinueAction are where the form's
	// buttons post; TestAction is empty where there is no test send.
	PreviewAction, TestAction, ContinueAction string
	Broadcast                                 broadcastForm
	Release                                   releaseForm
	// Roles are the broadcast's role checkboxes; Products are its product
	// checkboxes, or the release's product options.
	Roles, Products []option
	SendAt          string
	// Zone is the staff member's timezone, in which SendAt is read.
	Zone   string
	Errors map[string]string
	// Announced is the announcement of the same release, when the form
	// names a version announced before.
	Announced string
	Preview   *previewView
}

// previewView is who would receive the message now and how the first of
// them would read it.
type previewView struct {
	// Problems say why there is no count or message yet.
	Problems []string
	Ready    bool
	// Recipients is the exact count; Skipped match but opted out or are
	// suppressed; Sample are the first by address, More the rest.
	Recipients, Skipped, More int
	Noun                      string
	Sample                    []sampleRow
	// To is the recipient the message is rendered for.
	To, Subject, Text string
	// HTML is the message's HTML part, for a sandboxed srcdoc frame.
	HTML string
}

type sampleRow struct{ Email, Href string }

// confirmView asks for the last word before anything is stored: how many
// receive what, when, chosen how.
type confirmView struct {
	CSRF, Crumb string
	Question    string
	Facts       []fact
	Sample      []sampleRow
	More        int
	// Hidden are the form's fields, sent again by both buttons.
	Hidden []field
	// Action stores and sends (or schedules); Back shows the composer
	// again with the form as it was.
	Action, Back, Button string
}

type fact struct{ Label, Value string }

type field struct{ Name, Value string }

// newPreview is the preview of count, rendered as msg for the first of
// the sample.
func newPreview(count contacts.AudienceCount, msg templates.Message) *previewView {
	p := &previewView{Ready: true, Recipients: count.Recipients, Skipped: count.Skipped, Noun: plural(count.Recipients, "recipient"),
		More: count.Recipients - len(count.Sample), Sample: sampleRows(count), Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML}
	if len(count.Sample) > 0 {
		p.To = count.Sample[0]
	}
	return p
}

// sampleRows are the sample of a count, each linked to the person's page.
func sampleRows(count contacts.AudienceCount) []sampleRow {
	rows := make([]sampleRow, len(count.Sample))
	for i, e := range count.Sample {
		rows[i] = sampleRow{Email: e, Href: personHref(e)}
	}
	return rows
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// problems is a preview that can say only what is wrong.
func problems(errs map[string]string, order ...string) *previewView {
	p := &previewView{}
	for _, f := range order {
		if msg, ok := errs[f]; ok {
			p.Problems = append(p.Problems, msg)
		}
	}
	return p
}

// errorFlash is what the top of a composer says when the form has
// problems: each of them, so that the reason is read first.
func errorFlash(errs map[string]string, order ...string) *web.Flash {
	var msgs []string
	for _, f := range order {
		if msg, ok := errs[f]; ok {
			msgs = append(msgs, msg)
		}
	}
	return &web.Flash{Kind: "error", Text: "Nothing was sent. " + strings.Join(msgs, " ")}
}

// fieldOf is the form field an error's JSON path names:
// "audience.products[2]" is the field "products".
func fieldOf(path string) string {
	path = strings.TrimPrefix(path, "audience.")
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	return path
}

// problem says what is wrong with a field, starting with its label:
// "Subject is required", "Send at: … is in the past".
func problem(label, message string) string {
	for _, verb := range []string{"is ", "are ", "must ", "has ", "lists ", "renders "} {
		if strings.HasPrefix(message, verb) {
			return label + " " + strings.TrimSuffix(message, ".") + "."
		}
	}
	return label + ": " + strings.TrimSuffix(message, ".") + "."
}

// addFault records err, if it is bad input, under its field and returns
// true; any other error is left to the caller.
func addFault(errs map[string]string, labels map[string]string, err error) bool {
	e, ok := fault.As(err)
	if !ok || (e.Kind != fault.KindInvalid && e.Kind != fault.KindTooLarge) {
		return false
	}
	f := fieldOf(e.Field)
	label, known := labels[f]
	if !known {
		label, f = "The form", "form"
	}
	if _, seen := errs[f]; !seen {
		errs[f] = problem(label, e.Message)
	}
	return true
}

// dateTimeLocal is how a datetime-local field sends its value; browsers
// add seconds when the field has a step below a minute.
var dateTimeLocal = []string{"2006-01-02T15:04", "2006-01-02T15:04:05"}

// confirmGrace is how long a time to send at may have passed when the
// confirmation is pressed: it passed while the staff member read the
// confirmation, and sending at once is what was meant.
const confirmGrace = time.Hour

// sendAt reads the time a message is to go out, typed in the staff
// member's timezone: zero (at once) when empty. A time in the past is
// refused, but for one that passed meanwhile once confirmed.
func (v *visit) sendAt(s string, now time.Time, confirmed bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	loc := v.me.Location()
	for _, layout := range dateTimeLocal {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if confirmed {
			now = now.Add(-confirmGrace)
		}
		if t.Before(now) {
			return time.Time{}, fault.Invalid("send_at", "%s is in the past; leave it empty to send at once", t.Format("2006-01-02 15:04 MST"))
		}
		return t, nil
	}
	return time.Time{}, fault.Invalid("send_at", "%q is not a date and time such as 2031-05-01T09:00", s)
}

// when says when a message goes out, in the staff member's zone and in
// UTC, which the relay's logs and other staff read.
func (v *visit) when(t time.Time) string {
	if t.IsZero() {
		return "At once, when you confirm"
	}
	return fmt.Sprintf("%s (%s) · %s", v.in(t), v.me.Location(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

// products lists every product herald knows, by key.
func (c *Console) products(v *visit) ([]contacts.Product, error) {
	var all []contacts.Product
	req := page.Request{Limit: 500}
	for {
		list, err := c.Contacts.ListProducts(v.ctx(), req)
		if err != nil {
			return nil, err
		}
		all = append(all, list.Items...)
		if list.Next == "" {
			return all, nil
		}
		req.After = list.Next
	}
}

func productLabel(p contacts.Product) string {
	if p.Name != "" && p.Name != p.Key {
		return p.Name + " (" + p.Key + ")"
	}
	return p.Key
}

// knownProduct refuses, under field, a product no license names and no
// one named.
func (c *Console) knownProduct(v *visit, field, key string) error {
	_, err := c.Contacts.GetProduct(v.ctx(), key)
	if errors.Is(err, fault.ErrNotFound) {
		return fault.Invalid(field, "%q is not a product herald knows", key)
	}
	return err
}

// listSeparators split a typed list of license ids.
var listSeparators = regexp.MustCompile(`[\s,;]+`)

// splitList reads license ids typed one per line or separated by commas or
// spaces, each once.
func splitList(s string) []string {
	var out []string
	for _, id := range listSeparators.Split(strings.TrimSpace(s), -1) {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// framedStyles are the inline styles of the messages of kind, rendered
// with their templates' sample data in every locale: a composer's page
// allows them from the start, so that a preview fetched by its script, and
// framed in the page, shows with its styles too.
func framedStyles(reg *kinds.Registry, r *templates.Renderer, kind ledger.Kind) ([]string, error) {
	locales := map[string][]string{}
	for _, info := range r.List() {
		locales[info.Name] = info.Locales
	}
	var styles []string
	for _, spec := range reg.TemplatesOf(kind) {
		for _, locale := range append([]string{templates.DefaultLocale}, locales[spec.Name]...) {
			msg, err := r.Render(spec.Name, locale, spec.Sample())
			if err != nil {
				return nil, fmt.Errorf("sample of %s (%s): %w", spec.Name, locale, err)
			}
			styles = append(styles, web.StyleHashes(msg.HTML)...)
		}
	}
	slices.Sort(styles)
	return slices.Compact(styles), nil
}

// previewPolicy lets a composer's script fetch its preview, and the
// message framed in the page keep its styles: those of its kind, and any
// the shown message has beyond them.
func (c *Console) previewPolicy(v *visit, kind ledger.Kind, p *previewView) {
	styles := slices.Clone(c.styles[kind])
	if p != nil && p.HTML != "" {
		styles = append(styles, web.StyleHashes(p.HTML)...)
		slices.Sort(styles)
		styles = slices.Compact(styles)
	}
	v.policy = web.Policy{Fetch: true, Styles: styles}
}

// countOf reads the count a confirmation stated.
func countOf(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// hidden are a form's values as hidden fields, in a stable order.
func hidden(form url.Values) []field {
	var out []field
	for _, name := range slices.Sorted(maps.Keys(form)) {
		for _, val := range form[name] {
			out = append(out, field{Name: name, Value: val})
		}
	}
	return out
}
