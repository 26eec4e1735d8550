package admin

import (
	"golang.org/x/text/language"
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
	// Manage links to the portal's preferences.
	Manage string
}

// unsubscribeTexts are the languages the page speaks; the first is the
// default.
var unsubscribeTexts = []unsubscribeText{
	{
		Lang:     "en",
		TitleAsk: "Unsubscribe", TitleDone: "Unsubscribed", TitleInvalid: "Link not valid",
		AskBefore:  "Stop sending release notices and announcements to ",
		AskAfter:   "? Invoices and other messages about your licenses will still reach you.",
		DoneBefore: "",
		DoneAfter:  " will no longer receive release notices and announcements. Invoices and other messages about your licenses still reach you.",
		Button:     "Unsubscribe",
		Invalid:    "This unsubscribe link is not valid. Please use the link in the message you received.",
		Manage:     "Choose which mail you receive",
	},
	{
		Lang:     "de",
		TitleAsk: "Abmelden", TitleDone: "Abgemeldet", TitleInvalid: "Link ungültig",
		AskBefore:  "Keine Versionshinweise und Ankündigungen mehr an ",
		AskAfter:   " senden? Rechnungen und andere Nachrichten zu Ihren Lizenzen erhalten Sie weiterhin.",
		DoneBefore: "",
		DoneAfter:  " erhält keine Versionshinweise und Ankündigungen mehr. Rechnungen und andere Nachrichten zu Ihren Lizenzen erhalten Sie weiterhin.",
		Button:     "Abmelden",
		Invalid:    "Dieser Abmeldelink ist ungültig. Bitte verwenden Sie den Link aus der Nachricht, die Sie erhalten haben.",
		Manage:     "Wählen, welche Nachrichten Sie erhalten",
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
