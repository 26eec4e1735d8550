package billing

import (
	"testing"
	"time"
)

// unixDay is an independent count of days since 1970-01-01: whole days of
// Unix seconds, which an int64 holds for any year (a time.Duration, which
// time.Sub returns, saturates after 292 years).
func unixDay(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func TestCivilDay(t *testing.T) {
	t.Parallel()

	t.Run("KnownDays", func(t *testing.T) {
		for _, tc := range []struct {
			date string
			want int64
		}{
			{"1970-01-01", 0},
			{"1969-12-31", -1},
			{"2000-03-01", 11017},
			{"0001-01-01", -719162},
			{"9999-12-31", 2932896},
		} {
			if got, err := dayOf(tc.date); err != nil || got != tc.want {
				t.Errorf("dayOf(%s) = %d, %v; want %d", tc.date, got, err, tc.want)
			}
		}
	})

	t.Run("AgreesWithUnixDaysOnEveryDayOfFourCenturies", func(t *testing.T) {
		// 1900 to 2300 holds every kind of year: leap, common, the century
		// that is not leap (1900, 2100, 2200) and the one that is (2000).
		for d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2300; d = d.AddDate(0, 0, 1) {
			if got, want := civilDay(d.Date()), unixDay(d.Date()); got != want {
				t.Fatalf("civilDay(%s) = %d, want %d", d.Format(DateLayout), got, want)
			}
		}
	})

	t.Run("DaysBetween", func(t *testing.T) {
		for _, tc := range []struct {
			name, from, to string
			want           int
		}{
			{"SameDay", "2026-12-15", "2026-12-15", 0},
			{"Before", "2026-12-15", "2026-12-08", -7},
			{"YearBoundary", "2025-12-31", "2026-01-01", 1},
			{"LeapDay", "2024-02-28", "2024-03-01", 2},
			{"NoLeapDay", "2026-02-28", "2026-03-01", 1},
			{"CenturyNotLeap", "2100-02-28", "2100-03-01", 1},
			{"FourHundredLeap", "2000-02-28", "2000-03-01", 2},
			{"WholeLeapYear", "2024-01-01", "2025-01-01", 366},
			{"SpringForwardBerlin", "2026-03-29", "2026-03-30", 1},
			{"FallBackBerlin", "2026-10-25", "2026-10-26", 1},
			{"FarPast", "0001-01-01", "2026-12-01", 739950},
			{"FarFuture", "2026-12-01", "9999-12-31", 2912108},
			{"Bounds", EarliestDueDate, LatestDueDate, 77065},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := daysBetween(tc.from, tc.to)
				if err != nil || got != tc.want {
					t.Errorf("daysBetween(%s, %s) = %d, %v; want %d", tc.from, tc.to, got, err, tc.want)
				}
			})
		}
	})
}
