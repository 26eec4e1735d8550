package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/internal/ledger"
)

// progressInterval is how often a progress stream looks at the ledger. A
// look is one indexed count of the announcement's deliveries.
var progressInterval = time.Second

// progressEvent is what a progress stream sends: the counts and the status
// shown on the announcement's page.
type progressEvent struct {
	Status     string `json:"status"`
	Recipients int    `json:"recipients"`
	Done       int    `json:"done"`
	Sent       int    `json:"sent"`
	Failed     int    `json:"failed"`
	Skipped    int    `json:"skipped"`
	Pending    int    `json:"pending"`
	Bounced    int    `json:"bounced"`
	Complained int    `json:"complained"`
	// Final says the announcement will not change by itself any more;
	// Finished is when it finished, in the staff member's timezone.
	Final    bool   `json:"final"`
	Finished string `json:"finished,omitempty"`
}

func (v *visit) progressEvent(a ledger.Announcement) progressEvent {
	ev := progressEvent{Status: string(a.Status), Recipients: a.Counts.Recipients, Done: done(a.Counts),
		Sent: a.Counts.Sent, Failed: a.Counts.Failed, Skipped: a.Counts.Skipped, Pending: a.Counts.Pending + a.Counts.Sending,
		Bounced: a.Counts.Bounced, Complained: a.Counts.Complained, Final: !active(a.Status)}
	if a.FinishedAt != nil {
		ev.Finished = v.in(*a.FinishedAt)
	}
	return ev
}

// active says whether an announcement's counts may still change without
// anyone acting: a paused one waits for staff, a done or cancelled one is
// over.
func active(s ledger.Status) bool {
	return s == ledger.Scheduled || s == ledger.Resolving || s == ledger.Sending
}

// progress streams an announcement's counts as Server-Sent Events while
// it sends: one event at once, then one each time they change. A stream
// ends shortly before the request's deadline (the browser's EventSource
// connects again) and after the event that says the announcement is over.
func (c *Console) progress(v *visit) error {
	id, err := strconv.ParseInt(v.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such announcement.")
		return nil
	}
	a, err := c.Ledger.Get(v.ctx(), id)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(v.w)
	h := v.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold events back
	v.w.WriteHeader(http.StatusOK)
	// The browser waits this long before it connects again.
	if _, err := fmt.Fprint(v.w, "retry: 2000\n\n"); err != nil {
		return nil
	}
	stop := time.Now().Add(time.Minute)
	if d, ok := v.ctx().Deadline(); ok {
		stop = d.Add(-2 * time.Second)
	}
	tick := time.NewTicker(progressInterval)
	defer tick.Stop()
	var last progressEvent
	for first := true; ; first = false {
		ev := v.progressEvent(a)
		if first || ev != last {
			data, _ := json.Marshal(ev)
			if _, err := fmt.Fprintf(v.w, "event: progress\ndata: %s\n\n", data); err != nil {
				return nil // the browser went away
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
			last = ev
		}
		if ev.Final {
			return nil
		}
		select {
		case <-v.ctx().Done():
			return nil
		case now := <-tick.C:
			if now.After(stop) {
				return nil
			}
		}
		if a, err = c.Ledger.Get(v.ctx(), id); err != nil {
			// The headers are sent: end the stream, and the browser
			// tries again.
			c.Logger.Warn("console: progress stream", "announcement", id, "err", err)
			return nil
		}
	}
}
