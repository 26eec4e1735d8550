package admin

import (
	"fmt"

	"golang.org/x/text/language"

	"github.com/heraldhq/herald/internal/unsubscribe"
)

// unsubscribeText is the wording of the unsubscribe page in one language.
// The sentences that name the address are cut around it, so the address
// is set in the page by the template, escaped, and never part of a
// translation.
type unsubscribeText struct {
	Lang                              string
	TitleAsk, TitleDone, TitleInvalid string
	AskBefore, AskAfter               string
	DoneBefore, DoneAfter             string
	Button, Invalid                   string
	// Mail names the mail of each unsubscribe category, for the %s in
	// AskBefore and DoneAfter.
	Mail map[string]string
	// Manage links to the portal's preferences.
	Manage string
}

// about is the wording for a link of category: the sentences name the
// mail it leaves.
func (t unsubscribeText) about(category string) unsubscribeText {
	mail, ok := t.Mail[category]
	if !ok {
		mail = t.Mail[unsubscribe.CategoryAnnouncements]
	}
	t.AskBefore = fmt.Sprintf(t.AskBefore, mail)
	t.DoneAfter = fmt.Sprintf(t.DoneAfter, mail)
	return t
}

// unsubscribeTexts are the languages the page speaks; the first is the
// default.
var unsubscribeTexts = []unsubscribeText{
	{
		Lang:     "en",
		TitleAsk: "Unsubscribe", TitleDone: "Unsubscribed", TitleInvalid: "Link not valid",
		AskBefore:  "Stop sending %s to ",
		AskAfter:   "? Invoices and other messages about your licenses will still reach you.",
		DoneBefore: "",
		DoneAfter:  " will no longer receive %s. Invoices and other messages about your licenses still reach you.",
		Button:     "Unsubscribe",
		Invalid:    "This unsubscribe link is not valid. Please use the link in the message you received.",
		Mail: map[string]string{
			unsubscribe.CategoryReleases:      "release notices",
			unsubscribe.CategoryBroadcasts:    "announcements",
			unsubscribe.CategoryAnnouncements: "release notices and announcements",
		},
		Manage: "Choose which mail you receive",
	},
	{
		Lang:     "de",
		TitleAsk: "Abmelden", TitleDone: "Abgemeldet", TitleInvalid: "Link ungültig",
		AskBefore:  "Keine %s mehr an ",
		AskAfter:   " senden? Rechnungen und andere Nachrichten zu Ihren Lizenzen erhalten Sie weiterhin.",
		DoneBefore: "",
		DoneAfter:  " erhält keine %s mehr. Rechnungen und andere Nachrichten zu Ihren Lizenzen erhalten Sie weiterhin.",
		Button:     "Abmelden",
		Invalid:    "Dieser Abmeldelink ist ungültig. Bitte verwenden Sie den Link aus der Nachricht, die Sie erhalten haben.",
		Mail: map[string]string{
			unsubscribe.CategoryReleases:      "Versionshinweise",
			unsubscribe.CategoryBroadcasts:    "Ankündigungen",
			unsubscribe.CategoryAnnouncements: "Versionshinweise und Ankündigungen",
		},
		Manage: "Wählen, welche Nachrichten Sie erhalten",
	},
}

var unsubscribeMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(unsubscribeTexts))
	for i, t := range unsubscribeTexts {
		tags[i] = language.Make(t.Lang)
	}
	return language.NewMatcher(tags)
}()

// unsubscribeTextFor picks the wording for a locale ("de-AT") or an
// Accept-Language header ("de-CH, fr;q=0.8"): the closest language the
// page speaks, English when none is close.
func unsubscribeTextFor(locales string) unsubscribeText {
	tags, _, err := language.ParseAcceptLanguage(locales)
	if err != nil || len(tags) == 0 {
		return unsubscribeTexts[0]
	}
	_, i, confidence := unsubscribeMatcher.Match(tags...)
	if confidence == language.No {
		return unsubscribeTexts[0]
	}
	return unsubscribeTexts[i]
}
