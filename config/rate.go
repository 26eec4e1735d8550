package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is HERALD_SMTP_RATE: at most N messages per Per, across every
// process. The zero Rate is no limit.
type Rate struct {
	N   int
	Per time.Duration
}

var ratePeriods = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}

// UnmarshalText reads N/s, N/m, N/h or N/d; an empty text is no limit.
func (r *Rate) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if s == "" {
		*r = Rate{}
		return nil
	}
	n, unit, ok := strings.Cut(s, "/")
	per, known := ratePeriods[strings.TrimSpace(unit)]
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || !known || err != nil || count < 1 {
		return fmt.Errorf("%q is not a rate such as 14/s, 3000/m or 50000/d", s)
	}
	*r = Rate{N: count, Per: per}
	return nil
}

// String writes the rate as it is read.
func (r Rate) String() string {
	if r.N == 0 {
		return ""
	}
	for unit, per := range ratePeriods {
		if per == r.Per {
			return strconv.Itoa(r.N) + "/" + unit
		}
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// PerSecond is the rate in messages a second, 0 for no limit.
func (r Rate) PerSecond() float64 {
	if r.N == 0 {
		return 0
	}
	return float64(r.N) / r.Per.Seconds()
}
