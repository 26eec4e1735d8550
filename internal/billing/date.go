package billing

import (
	"time"

	"github.com/heraldhq/herald/internal/fault"
)

// The due dates herald takes. A date outside them is a typo or a
// placeholder (0001-01-01, 9999-12-31), and would make a reminder say that
// an invoice is centuries overdue.
const (
	EarliestDueDate = "1990-01-01"
	LatestDueDate   = "2200-12-31"
)

// checkDueDate checks a due date: YYYY-MM-DD, a day that exists, within
// EarliestDueDate and LatestDueDate.
func checkDueDate(field, s string) error {
	if s == "" {
		return fault.Invalid(field, "is required (YYYY-MM-DD)")
	}
	if _, err := time.Parse(DateLayout, s); err != nil {
		return fault.Invalid(field, "%q is not a date (YYYY-MM-DD)", s)
	}
	// Parsed, the layout is fixed-width, so the strings compare as dates.
	if s < EarliestDueDate || s > LatestDueDate {
		return fault.Invalid(field, "%s is outside the due dates herald takes, %s to %s", s, EarliestDueDate, LatestDueDate)
	}
	return nil
}

// civilDay numbers the days of the proleptic Gregorian calendar, 0 on
// 1970-01-01, from a date's year, month and day. Differences of these are
// days as a calendar counts them: a day is a day, whatever its length in
// hours (23 or 25 across a DST change), and nothing saturates, as a
// time.Duration does after 292 years.
func civilDay(year int, month time.Month, day int) int64 {
	// H. Hinnant's days_from_civil: years start in March, so that the leap
	// day is the last day of its year.
	y, m, d := int64(year), int64(month), int64(day)
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era-- // floor division
	}
	yoe := y - era*400                     // [0, 399]
	doy := (153*((m+9)%12)+2)/5 + d - 1    // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}

// dayOf is civilDay of a YYYY-MM-DD date.
func dayOf(date string) (int64, error) {
	t, err := time.Parse(DateLayout, date)
	if err != nil {
		return 0, err
	}
	return civilDay(t.Date()), nil
}

// daysBetween returns to - from in calendar days, both YYYY-MM-DD.
func daysBetween(from, to string) (int, error) {
	f, err := dayOf(from)
	if err != nil {
		return 0, err
	}
	t, err := dayOf(to)
	if err != nil {
		return 0, err
	}
	return int(t - f), nil
}
