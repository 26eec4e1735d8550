package billing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
)

// Cadence says when invoices are reminded of: on each offset, in days
// relative to the due date (-7 is a week before, 14 two weeks after).
type Cadence struct {
	Offsets []int
	// AllFrom is the offset from which every billing contact is addressed;
	// before it, only the main billing contact.
	AllFrom int
}

// Reminder is one step of the cadence due for one invoice: what its
// reminder announcement is made of.
type Reminder struct {
	Number    string
	LicenseID string
	// Offset is the step, in days from the due date.
	Offset int
	// MainOnly addresses only the main billing contact.
	MainOnly bool
}

// Remind creates the reminders that are due: for each open invoice, the
// latest step of the cadence whose day has come, unless that step was made
// already. Steps missed while herald was down are not sent late one by one:
// only the latest is. "Today" is each license's own date in its timezone,
// or asOf (YYYY-MM-DD) when given. announce makes the announcement of each
// step; several schedulers may run Remind at once, and its dedupe key lets
// one of them create each reminder.
func (b *Billing) Remind(ctx context.Context, cad Cadence, asOf string, announce func(Reminder) ledger.NewAnnouncement) ([]ledger.Announcement, error) {
	if asOf != "" {
		day, err := time.Parse(DateLayout, asOf)
		if err != nil {
			return nil, fault.Invalid("as_of", "%q is not a date (YYYY-MM-DD)", asOf)
		}
		// No timezone is more than 14 hours ahead of UTC: a later day has
		// not come anywhere, and reminding for it would use up its steps.
		if latest := b.now().UTC().Add(14 * time.Hour).Format(DateLayout); day.Format(DateLayout) > latest {
			return nil, fault.Invalid("as_of", "%s has not come yet anywhere (it is %s at the most)", asOf, latest)
		}
	}
	offsets := slices.Clone(cad.Offsets)
	slices.Sort(offsets)
	if len(offsets) == 0 {
		return nil, nil
	}
	var open []struct {
		Number    string `db:"number"`
		LicenseID string `db:"license_id"`
		DueDate   string `db:"due_date"`
		Timezone  string `db:"timezone"`
	}
	if err := db.Select(ctx, b.db.Read, &open, `
		SELECT i.number, i.license_id, i.due_date, l.timezone
		FROM invoices i JOIN licenses l ON l.id = i.license_id
		WHERE i.status = ? ORDER BY i.number`, Open); err != nil {
		return nil, fmt.Errorf("open invoices: %w", err)
	}
	now := b.now()
	var made []ledger.Announcement
	for _, inv := range open {
		today := asOf
		if today == "" {
			loc, err := time.LoadLocation(inv.Timezone)
			if err != nil {
				loc = time.UTC // validated on the way in; an unknown zone is not a reason to stay silent
			}
			today = now.In(loc).Format(DateLayout)
		}
		days, err := daysBetween(inv.DueDate, today)
		if err != nil {
			return nil, fmt.Errorf("invoice %s: %w", inv.Number, err)
		}
		step, ok := latestStep(offsets, days)
		if !ok {
			continue
		}
		r := Reminder{Number: inv.Number, LicenseID: inv.LicenseID, Offset: step, MainOnly: step < cad.AllFrom}
		a, created, err := b.ledger.Announce(ctx, announce(r))
		if err != nil {
			return nil, fmt.Errorf("reminder of invoice %s at %+d days: %w", inv.Number, step, err)
		}
		if created {
			made = append(made, a)
		}
	}
	return made, nil
}

// latestStep returns the largest offset that is at most days.
func latestStep(sorted []int, days int) (int, bool) {
	i, found := slices.BinarySearch(sorted, days)
	if found {
		return sorted[i], true
	}
	if i == 0 {
		return 0, false
	}
	return sorted[i-1], true
}
