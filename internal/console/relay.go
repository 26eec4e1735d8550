package console

import (
	"math"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
)

type relayView struct {
	State, Since, Error, Advice string
	// Configured and Effective are the send rates, "" for no limit.
	Configured, Effective string
	Slowed                bool
	// Paused are the announcements paused for the relay: by the relay
	// itself, or by herald when the relay refused their messages the same
	// way for too long; each row's Pause says why and how it ends. Others
	// counts those paused by hand.
	Paused []announcementRow
	Others int
}

// relayPage shows the relay as every process sees it, as GET /api/v1/relay
// does: its state, the last error and what to change, the send rate, and
// the announcements paused while it fails.
func (c *Console) relayPage(v *visit) error {
	st, err := c.Relay.Status(v.ctx())
	if err != nil {
		return err
	}
	view := relayView{State: string(st.State), Error: st.Error, Advice: st.Advice}
	if !st.Since.IsZero() {
		view.Since = v.in(st.Since)
	}
	rate := c.Relay.Rate(v.ctx())
	if rate.Configured > 0 {
		view.Configured, view.Effective = perSecond(rate.Configured), perSecond(rate.Effective)
		view.Slowed = rate.Effective < rate.Configured
	}
	paused, err := c.Ledger.List(v.ctx(), ledger.Filter{Status: ledger.Paused, Page: page.Request{Limit: page.MaxSize}})
	if err != nil {
		return err
	}
	for _, a := range paused.Items {
		if a.PausedBy != ledger.PausedByRelay && a.PausedBy != ledger.PausedByHerald {
			view.Others++
			continue
		}
		view.Paused = append(view.Paused, v.announcementRow(a))
	}
	return c.render(v, http.StatusOK, pageRelay, "Relay", "operations/relay", view)
}

// perSecond writes a rate in messages a second, to two decimals at most.
func perSecond(r float64) string {
	return strconv.FormatFloat(math.Round(r*100)/100, 'f', -1, 64) + " a second"
}
