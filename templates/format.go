package templates

import (
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

// A message writes amounts and dates the way its language does: each
// template file is given "amount" and "date" functions bound to the locale
// in its name, so a German file writes "1.234,50 €" and "30. November 2026"
// whoever it is sent to, and a recipient whose language has no file reads
// the English one with English numbers, not a mix of the two.

// FormatAmount writes an amount in minor units with its currency's number
// of decimals (2 for EUR, 0 for JPY, 3 for KWD), its symbol where locale's
// language puts it, and its digit grouping and decimal mark: 123450 EUR is
// "€1,234.50" in en and "1.234,50 €" in de. A code x/text does not know is
// written as the bare minor units and the code.
func FormatAmount(minor int64, code, locale string) string {
	unit, err := currency.ParseISO(code)
	if err != nil {
		return strconv.FormatInt(minor, 10) + " " + code
	}
	tag := parseLocale(locale)
	scale, _ := currency.Standard.Rounding(unit)
	// Exact for every amount below 2^53 minor units: the float only carries
	// the value to the formatter, which prints scale decimals.
	value, _ := new(big.Rat).SetFrac(big.NewInt(minor), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)).Float64()
	p := message.NewPrinter(tag)
	digits := p.Sprint(number.Decimal(value, number.Scale(scale)))
	symbol := p.Sprint(currency.Symbol(unit))
	switch symbolPlace(tag) {
	case symbolAfter:
		return digits + " " + symbol
	case symbolBeforeSpaced:
		return symbol + " " + digits
	}
	// "CHF 1,234.50" but "€1,234.50": letters are kept off the digits.
	if r, _ := utf8.DecodeLastRuneInString(symbol); unicode.IsLetter(r) {
		return symbol + " " + digits
	}
	return symbol + digits
}

type placement int

const (
	symbolBefore placement = iota
	symbolBeforeSpaced
	symbolAfter
)

// symbolPlace is where tag's language writes the currency symbol, after
// CLDR's currency patterns for the languages herald's users write in; the
// others get the English pattern.
func symbolPlace(tag language.Tag) placement {
	base, _ := tag.Base()
	region, _ := tag.Region()
	switch base.String() {
	case "de":
		switch region.String() {
		case "AT", "CH", "LI":
			return symbolBeforeSpaced
		}
		return symbolAfter
	case "it":
		if region.String() == "CH" {
			return symbolBeforeSpaced
		}
		return symbolAfter
	case "es":
		// Spain writes it after; the Americas before, as English does.
		if r := region.String(); r != "ES" && r != "ZZ" {
			return symbolBefore
		}
		return symbolAfter
	case "fr", "pl", "cs", "sk", "sv", "fi", "da", "nb", "nn", "no", "ru", "uk":
		return symbolAfter
	case "nl":
		return symbolBeforeSpaced
	}
	return symbolBefore
}

// months names the months in the languages whose long dates herald writes.
var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"de": {"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
}

// FormatDate writes a date (YYYY-MM-DD) long, as locale's language does:
// "30 November 2026" in en, "30. November 2026" in de. A language herald
// has no month names for gets the date as it is, which every reader can
// read; so does a value that is not a date.
func FormatDate(date, locale string) string {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	base, _ := parseLocale(locale).Base()
	names, ok := months[base.String()]
	if !ok {
		return date
	}
	day, month := strconv.Itoa(d.Day()), names[d.Month()-1]
	if base.String() == "de" {
		return day + ". " + month + " " + strconv.Itoa(d.Year())
	}
	return day + " " + month + " " + strconv.Itoa(d.Year())
}

// parseLocale reads a locale, the default one when it is empty or not a
// language tag.
func parseLocale(locale string) language.Tag {
	if strings.TrimSpace(locale) == "" {
		locale = DefaultLocale
	}
	tag, err := language.Parse(locale)
	if err != nil {
		return language.English
	}
	return tag
}

// localeFuncs are the functions a template file of locale may call
// ("" is the default locale).
func localeFuncs(locale string) map[string]any {
	if locale == "" {
		locale = DefaultLocale
	}
	return map[string]any{
		// amount writes an amount in minor units of a currency.
		"amount": func(minor int64, code string) string { return FormatAmount(minor, code, locale) },
		// date writes a YYYY-MM-DD date long.
		"date": func(date string) string { return FormatDate(date, locale) },
	}
}
