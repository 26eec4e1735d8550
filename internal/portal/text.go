package portal

import (
	"fmt"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/web"
)

// Text is the portal's wording in one language. Sentences that name an
// address or a license are format strings: the address is set in by the
// template, escaped, and never part of a translation.
type Text struct {
	Lang string

	Site, Skip, NavLabel, NavLicenses, NavPreferences, SignOut string

	SignInTitle, SignInIntro, EmailLabel, SendLink            string
	SentTitle, SentText, SentAgain                            string
	LinkTitle, LinkText, LinkButton                           string
	LinkInvalidTitle, LinkInvalidText, AskNew                 string
	SignedOut, SessionEnded, LeftAll                          string
	AccountTitle, AccountIntro, NoLicenses, NoContacts        string
	LicenseID, Product, Status, Main, You                     string
	StatusName                                                map[contacts.Status]string
	RoleHeading, RoleOption, RoleContacts, RoleMain           map[contacts.Role]string
	RemoveLabel, PromoteLabel, MakeMeMain                     map[contacts.Role]string
	AddHeading, NameLabel, RoleLabel, AddButton, AddHint      string
	InvoicesHeading, InvoiceNumber, InvoiceAmount, InvoiceDue string
	InvoiceStatus, NoInvoices                                 string
	InvoiceStatusName                                         map[billing.Status]string
	Added, Promoted, Removed, TooManyAdds                     string

	PrefsTitle, LanguageLabel, MailLegend, Releases, Broadcasts string
	ReleasesHint, BroadcastsHint, InvoiceNote, SavePrefs, Saved string
	ManageLink                                                  string

	NotFoundTitle, NotFoundText, NoLicenseTitle, NoLicenseText string
	FormTitle, FormText, LimitTitle, LimitText                 string
	MethodTitle, MethodText, FailTitle, FailText, Back         string
	InvalidTitle                                               string
}

// texts are the languages the portal speaks; the first is the default.
var texts = []*Text{english, german}

var english = &Text{
	Lang: "en",
	Site: "Contacts portal", Skip: "Skip to content", NavLabel: "Account",
	NavLicenses: "My licenses", NavPreferences: "Preferences", SignOut: "Sign out",

	SignInTitle: "Sign in",
	SignInIntro: "Enter the email address at which you receive mail about your licenses. We send you a link that signs you in; no password is needed.",
	EmailLabel:  "Email address", SendLink: "Send me a sign-in link",
	SentTitle: "Check your mail",
	SentText:  "If this address is a contact of a license, a sign-in link is on its way. It works once, within %d minutes.",
	SentAgain: "Nothing arrived after a few minutes? Check your spam folder, or ask again.",
	LinkTitle: "Sign in", LinkText: "Sign in as %s?", LinkButton: "Sign in",
	LinkInvalidTitle: "This link no longer works",
	LinkInvalidText:  "A sign-in link works once, within %d minutes of being sent. Ask for a new one.",
	AskNew:           "Ask for a new sign-in link",
	SignedOut:        "You are signed out.",
	SessionEnded:     "Please sign in to see your licenses.",
	LeftAll:          "You are no longer a contact of any license, so you were signed out.",

	AccountTitle: "My licenses",
	AccountIntro: "These are the licenses you are a contact of. Open one to see and change who receives its mail.",
	NoLicenses:   "You are not a contact of any license.",
	NoContacts:   "No one yet.",
	LicenseID:    "License", Product: "Product", Status: "Status", Main: "main", You: "you",
	StatusName:   map[contacts.Status]string{contacts.Active: "active", contacts.Expired: "expired", contacts.Cancelled: "cancelled"},
	RoleHeading:  map[contacts.Role]string{contacts.Technical: "Technical contacts", contacts.Billing: "Billing contacts"},
	RoleOption:   map[contacts.Role]string{contacts.Technical: "Technical contact", contacts.Billing: "Billing contact"},
	RoleContacts: map[contacts.Role]string{contacts.Technical: "technical contacts", contacts.Billing: "billing contacts"},
	RoleMain:     map[contacts.Role]string{contacts.Technical: "the main technical contact", contacts.Billing: "the main billing contact"},
	RemoveLabel:  map[contacts.Role]string{contacts.Technical: "Remove %s from technical contacts", contacts.Billing: "Remove %s from billing contacts"},
	PromoteLabel: map[contacts.Role]string{contacts.Technical: "Make %s the main technical contact", contacts.Billing: "Make %s the main billing contact"},
	MakeMeMain:   map[contacts.Role]string{contacts.Technical: "Make me the main technical contact", contacts.Billing: "Make me the main billing contact"},
	AddHeading:   "Add a contact", NameLabel: "Name", RoleLabel: "Role", AddButton: "Add contact",
	AddHint:         "They will be told by mail who added them.",
	InvoicesHeading: "Invoices", InvoiceNumber: "Number", InvoiceAmount: "Amount", InvoiceDue: "Due", InvoiceStatus: "Status",
	NoInvoices:        "No invoices since you became a billing contact.",
	InvoiceStatusName: map[billing.Status]string{billing.Open: "open", billing.Paid: "paid", billing.Void: "void"},
	Added:             "%s was added to the %s of %s.",
	Promoted:          "%s is now %s of %s.",
	Removed:           "%s was removed from the %s of %s.",
	TooManyAdds:       "Too many contacts were added today. Please try again tomorrow.",

	PrefsTitle: "Preferences", LanguageLabel: "Language", MailLegend: "Mail you receive",
	Releases: "Release notices", Broadcasts: "Announcements",
	ReleasesHint:   "New versions of the products of your licenses, if you are a technical contact.",
	BroadcastsHint: "Other news from us, such as maintenance windows.",
	InvoiceNote:    "You are a billing contact, so you receive invoice reminders: they cannot be turned off while you are one. Ask a colleague to take your place if they should receive them instead.",
	SavePrefs:      "Save preferences", Saved: "Your preferences are saved.",
	ManageLink: "Change which mail you receive",

	NotFoundTitle: "Page not found", NotFoundText: "There is no such page.",
	NoLicenseTitle: "License not found", NoLicenseText: "None of your licenses has this id.",
	FormTitle: "Please try again", FormText: "This form was too old or was not sent from this site. Go back, reload the page and try again.",
	LimitTitle: "Too many requests", LimitText: "Too many requests came from you. Please wait a while and try again.",
	MethodTitle: "Not possible", MethodText: "This page cannot be used that way.",
	FailTitle: "Something went wrong", FailText: "Something went wrong on our side. Please try again in a moment.",
	Back: "Back to my licenses", InvalidTitle: "Please check your input",
}

var german = &Text{
	Lang: "de",
	Site: "Kontaktportal", Skip: "Zum Inhalt springen", NavLabel: "Konto",
	NavLicenses: "Meine Lizenzen", NavPreferences: "Einstellungen", SignOut: "Abmelden",

	SignInTitle: "Anmelden",
	SignInIntro: "Geben Sie die E-Mail-Adresse ein, an die Sie Nachrichten zu Ihren Lizenzen erhalten. Wir senden Ihnen einen Link, der Sie anmeldet; ein Passwort ist nicht nötig.",
	EmailLabel:  "E-Mail-Adresse", SendLink: "Anmeldelink senden",
	SentTitle: "Sehen Sie in Ihr Postfach",
	SentText:  "Wenn diese Adresse Kontakt einer Lizenz ist, ist ein Anmeldelink unterwegs. Er gilt einmal, %d Minuten lang.",
	SentAgain: "Nach einigen Minuten nichts angekommen? Sehen Sie im Spam-Ordner nach oder fordern Sie den Link erneut an.",
	LinkTitle: "Anmelden", LinkText: "Als %s anmelden?", LinkButton: "Anmelden",
	LinkInvalidTitle: "Dieser Link gilt nicht mehr",
	LinkInvalidText:  "Ein Anmeldelink gilt einmal, %d Minuten lang ab dem Versand. Fordern Sie einen neuen an.",
	AskNew:           "Neuen Anmeldelink anfordern",
	SignedOut:        "Sie sind abgemeldet.",
	SessionEnded:     "Bitte melden Sie sich an, um Ihre Lizenzen zu sehen.",
	LeftAll:          "Sie sind kein Kontakt einer Lizenz mehr und wurden deshalb abgemeldet.",

	AccountTitle: "Meine Lizenzen",
	AccountIntro: "Das sind die Lizenzen, deren Kontakt Sie sind. Öffnen Sie eine, um zu sehen und zu ändern, wer ihre Nachrichten erhält.",
	NoLicenses:   "Sie sind kein Kontakt einer Lizenz.",
	NoContacts:   "Noch niemand.",
	LicenseID:    "Lizenz", Product: "Produkt", Status: "Status", Main: "Haupt", You: "Sie",
	StatusName:   map[contacts.Status]string{contacts.Active: "aktiv", contacts.Expired: "abgelaufen", contacts.Cancelled: "gekündigt"},
	RoleHeading:  map[contacts.Role]string{contacts.Technical: "Technische Kontakte", contacts.Billing: "Rechnungskontakte"},
	RoleOption:   map[contacts.Role]string{contacts.Technical: "Technischer Kontakt", contacts.Billing: "Rechnungskontakt"},
	RoleContacts: map[contacts.Role]string{contacts.Technical: "technischen Kontakten", contacts.Billing: "Rechnungskontakten"},
	RoleMain:     map[contacts.Role]string{contacts.Technical: "der technische Hauptkontakt", contacts.Billing: "der Hauptkontakt für Rechnungen"},
	RemoveLabel:  map[contacts.Role]string{contacts.Technical: "%s aus den technischen Kontakten entfernen", contacts.Billing: "%s aus den Rechnungskontakten entfernen"},
	PromoteLabel: map[contacts.Role]string{contacts.Technical: "%s zum technischen Hauptkontakt machen", contacts.Billing: "%s zum Hauptkontakt für Rechnungen machen"},
	MakeMeMain:   map[contacts.Role]string{contacts.Technical: "Mich zum technischen Hauptkontakt machen", contacts.Billing: "Mich zum Hauptkontakt für Rechnungen machen"},
	AddHeading:   "Kontakt hinzufügen", NameLabel: "Name", RoleLabel: "Rolle", AddButton: "Kontakt hinzufügen",
	AddHint:         "Die Person erfährt per E-Mail, wer sie hinzugefügt hat.",
	InvoicesHeading: "Rechnungen", InvoiceNumber: "Nummer", InvoiceAmount: "Betrag", InvoiceDue: "Fällig", InvoiceStatus: "Status",
	NoInvoices:        "Keine Rechnungen, seit Sie Rechnungskontakt sind.",
	InvoiceStatusName: map[billing.Status]string{billing.Open: "offen", billing.Paid: "bezahlt", billing.Void: "storniert"},
	Added:             "%s wurde zu den %s von %s hinzugefügt.",
	Promoted:          "%s ist jetzt %s von %s.",
	Removed:           "%s wurde aus den %s von %s entfernt.",
	TooManyAdds:       "Heute wurden zu viele Kontakte hinzugefügt. Bitte versuchen Sie es morgen wieder.",

	PrefsTitle: "Einstellungen", LanguageLabel: "Sprache", MailLegend: "Nachrichten, die Sie erhalten",
	Releases: "Versionshinweise", Broadcasts: "Ankündigungen",
	ReleasesHint:   "Neue Versionen der Produkte Ihrer Lizenzen, wenn Sie technischer Kontakt sind.",
	BroadcastsHint: "Andere Neuigkeiten von uns, etwa Wartungsfenster.",
	InvoiceNote:    "Sie sind Rechnungskontakt und erhalten deshalb Zahlungserinnerungen: Diese lassen sich nicht abbestellen, solange Sie Rechnungskontakt sind. Bitten Sie eine Kollegin oder einen Kollegen, Ihren Platz einzunehmen, wenn sie stattdessen sie erhalten sollen.",
	SavePrefs:      "Einstellungen speichern", Saved: "Ihre Einstellungen sind gespeichert.",
	ManageLink: "Ändern, welche Nachrichten Sie erhalten",

	NotFoundTitle: "Seite nicht gefunden", NotFoundText: "Diese Seite gibt es nicht.",
	NoLicenseTitle: "Lizenz nicht gefunden", NoLicenseText: "Keine Ihrer Lizenzen hat diese Kennung.",
	FormTitle: "Bitte noch einmal", FormText: "Dieses Formular war zu alt oder wurde nicht von dieser Seite gesendet. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es noch einmal.",
	LimitTitle: "Zu viele Anfragen", LimitText: "Von Ihnen kamen zu viele Anfragen. Bitte warten Sie eine Weile und versuchen Sie es dann noch einmal.",
	MethodTitle: "Nicht möglich", MethodText: "Diese Seite lässt sich so nicht verwenden.",
	FailTitle: "Etwas ist schiefgegangen", FailText: "Bei uns ist etwas schiefgegangen. Bitte versuchen Sie es gleich noch einmal.",
	Back: "Zurück zu meinen Lizenzen", InvalidTitle: "Bitte prüfen Sie Ihre Eingaben",
}

var matcher = web.NewMatcher(func() []string {
	langs := make([]string, len(texts))
	for i, t := range texts {
		langs[i] = t.Lang
	}
	return langs
}())

// textFor picks the wording for a locale ("de-AT") or an Accept-Language
// header: the closest language the portal speaks, English when none is.
func textFor(locales string) *Text { return texts[matcher.Match(locales)] }

// word writes a flash in t's language.
func (t *Text) word(f flash) *web.Flash {
	ok := func(s string) *web.Flash { return &web.Flash{Kind: "ok", Text: s} }
	switch f.Key {
	case flashAdded:
		return ok(fmt.Sprintf(t.Added, f.Email, t.RoleContacts[f.Role], f.License))
	case flashPromoted:
		return ok(fmt.Sprintf(t.Promoted, f.Email, t.RoleMain[f.Role], f.License))
	case flashRemoved:
		return ok(fmt.Sprintf(t.Removed, f.Email, t.RoleContacts[f.Role], f.License))
	case flashSaved:
		return ok(t.Saved)
	case flashSignedOut:
		return ok(t.SignedOut)
	case flashLeftAll:
		return ok(t.LeftAll)
	case flashSessionEnded:
		return &web.Flash{Kind: "info", Text: t.SessionEnded}
	}
	return nil
}

// sprintf sets an address into a translated sentence.
func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
