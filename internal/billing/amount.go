package billing

import (
	"math/big"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// FormatAmount writes an amount in minor units with its currency's number
// of decimals (2 for EUR, 0 for JPY, 3 for KWD), its symbol, and the digit
// grouping and decimal mark of locale: 125000 EUR is "€ 1,250.00" in en and
// "€ 1.250,00" in de.
func FormatAmount(minor int64, code, locale string) string {
	unit, err := currency.ParseISO(code)
	if err != nil {
		return new(big.Int).SetInt64(minor).String() + " " + code
	}
	scale, _ := currency.Standard.Rounding(unit)
	tag, err := language.Parse(locale)
	if err != nil {
		tag = language.English
	}
	// Exact for every amount below 2^53 minor units: the float only carries
	// the value to the formatter, which prints scale decimals.
	value, _ := new(big.Rat).SetFrac(big.NewInt(minor), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)).Float64()
	return message.NewPrinter(tag).Sprint(currency.Symbol(unit.Amount(value)))
}
