package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
	"github.com/heraldhq/herald/internal/staff"
)

type announcementsView struct {
	Rows        []announcementRow
	Next, First string
	// CanCompose shows an editor the way to a new broadcast or release.
	CanCompose bool
}

type announcementRow struct {
	ID                         int64
	Href, Kind, Subject        string
	Status, Created, Finished  string
	Recipients, Sent, Failed   int
	Skipped, Pending, Progress int
	// Bounced came back after they were sent; Complained were marked as
	// spam by their recipients.
	Bounced, Complained int
	// Pause says why and by whom a paused announcement was paused.
	Pause *pauseView
	// Actions are the buttons an editor has on the page.
	Actions []action
	// Live is the address of the progress stream while the counts may
	// still change by themselves; empty once they cannot.
	Live string
}

// announcementView is an announcement's page: its row, and its deliveries
// filtered by status and address.
type announcementView struct {
	announcementRow
	// FilterStatus and FilterEmail select the deliveries shown.
	FilterStatus string
	FilterEmail  string
	Statuses     []option
	Deliveries   []deliveryRow
	Next         string
	Error        string
}

type deliveryRow struct {
	Email, Status, Reason, Error, Sent string
	Href                               string // the person's page; none for an erased address
	Attempts                           int
	// Complained is when the recipient marked the message as spam, in
	// the staff member's timezone; empty if they did not.
	Complained string
}

// pauseView is why an announcement is paused, who paused it, and how the
// pause ends.
type pauseView struct {
	Reason, By, Resumes string
}

var deliveryStatuses = []ledger.DeliveryStatus{ledger.DeliveryPending, ledger.DeliverySending, ledger.DeliverySent,
	ledger.DeliveryFailed, ledger.DeliverySkipped, ledger.DeliveryCancelled, ledger.DeliveryBounced}

// done is how many deliveries are over (sent, failed, skipped, cancelled
// or bounced), for the progress bar.
func done(c ledger.Counts) int { return c.Sent + c.Failed + c.Skipped + c.Cancelled + c.Bounced }

// pauseOf says, of a paused announcement, who paused it and how the pause
// ends; nil for one that is not paused.
func pauseOf(a ledger.Announcement) *pauseView {
	if a.Status != ledger.Paused {
		return nil
	}
	p := &pauseView{Reason: a.PausedReason, By: a.PausedBy, Resumes: "when an editor resumes it"}
	switch a.PausedBy {
	case ledger.PausedByRelay:
		p.By, p.Resumes = "the relay's failure", "by itself, once a send passes"
	case ledger.PausedByHerald:
		p.By, p.Resumes = "herald: the relay refused its messages", "by an editor, once what the reason says is looked into: never by itself"
	case ledger.PausedByGuardRails:
		p.By, p.Resumes = "herald's guard rails: too many complaints or hard bounces", "by an editor, once the content and the audience are looked into: never by itself"
	}
	return p
}

func (v *visit) announcementRow(a ledger.Announcement) announcementRow {
	r := announcementRow{ID: a.ID, Href: "/console/announcements/" + strconv.FormatInt(a.ID, 10), Kind: string(a.Kind), Subject: a.Subject,
		Status: string(a.Status), Created: v.in(a.CreatedAt), Recipients: a.Counts.Recipients, Sent: a.Counts.Sent,
		Failed: a.Counts.Failed, Skipped: a.Counts.Skipped, Pending: a.Counts.Pending + a.Counts.Sending, Progress: done(a.Counts),
		Bounced: a.Counts.Bounced, Complained: a.Counts.Complained, Pause: pauseOf(a)}
	if a.FinishedAt != nil {
		r.Finished = v.in(*a.FinishedAt)
	}
	return r
}

// announcements lists the announcements, newest first.
func (c *Console) announcements(v *visit) error {
	after := v.r.URL.Query().Get("after")
	list, err := c.Ledger.List(v.ctx(), ledger.Filter{Page: page.Request{Limit: pageSize, After: after}})
	if err != nil {
		return err
	}
	view := announcementsView{CanCompose: v.can(staff.Editor)}
	for _, a := range list.Items {
		view.Rows = append(view.Rows, v.announcementRow(a))
	}
	if list.Next != "" {
		view.Next = "/console/announcements?" + url.Values{"after": {list.Next}}.Encode()
	}
	if after != "" {
		view.First = "/console/announcements"
	}
	return c.render(v, http.StatusOK, pageAnnouncements, "Announcements", "announcements", view)
}

// announcement shows one announcement's counts and progress; the page
// reloads itself while it sends (a refresh link works without that).
func (c *Console) announcement(v *visit) error {
	id, err := strconv.ParseInt(v.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such announcement.")
		return nil
	}
	a, err := c.Ledger.Get(v.ctx(), id)
	if err != nil {
		return err
	}
	row := v.announcementRow(a)
	if active(a.Status) {
		row.Live = row.Href + "/progress"
	}
	if v.can(staff.Editor) {
		csrf := c.csrf(v)
		add := func(name, label string) {
			row.Actions = append(row.Actions, action{Action: row.Href + "/" + name, Label: label, CSRF: csrf})
		}
		switch a.Status {
		case ledger.Scheduled, ledger.Resolving, ledger.Sending:
			add("pause", "Pause")
			add("cancel", "Cancel")
		case ledger.Paused:
			add("resume", "Resume")
			add("cancel", "Cancel")
		}
		if a.Counts.Failed > 0 && a.Status != ledger.Cancelled {
			add("retry-failed", "Retry failed")
		}
	}
	q := v.r.URL.Query()
	view := announcementView{announcementRow: row, FilterStatus: q.Get("status"), FilterEmail: q.Get("email")}
	view.Statuses = []option{{Value: "", Label: "Any status", Selected: view.FilterStatus == ""}}
	for _, s := range deliveryStatuses {
		view.Statuses = append(view.Statuses, option{Value: string(s), Label: string(s), Selected: string(s) == view.FilterStatus})
	}
	status := http.StatusOK
	list, err := c.Ledger.Deliveries(v.ctx(), a.ID, ledger.DeliveryFilter{Status: ledger.DeliveryStatus(view.FilterStatus), Email: view.FilterEmail,
		Page: page.Request{Limit: 50, After: q.Get("after")}})
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		view.Error, status, err = e.Error(), http.StatusBadRequest, nil
	}
	if err != nil {
		return err
	}
	for _, d := range list.Items {
		view.Deliveries = append(view.Deliveries, v.deliveryRow(d))
	}
	if list.Next != "" {
		next := url.Values{"after": {list.Next}}
		if view.FilterStatus != "" {
			next.Set("status", view.FilterStatus)
		}
		if view.FilterEmail != "" {
			next.Set("email", view.FilterEmail)
		}
		view.Next = row.Href + "?" + next.Encode()
	}
	return c.renderLive(v, status, pageAnnouncement, "Announcement "+strconv.FormatInt(a.ID, 10)+" · "+a.Subject, "announcements", view, row.Live != "")
}

// announcementAction cancels, pauses, resumes or retries the failed
// deliveries of an announcement, as the API does, and enqueues what it
// made due.
func (c *Console) announcementAction(v *visit) error {
	id, err := strconv.ParseInt(v.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such announcement.")
		return nil
	}
	back := "/console/announcements/" + strconv.FormatInt(id, 10)
	var done string
	by := v.actor()
	switch v.r.PathValue("action") {
	case "cancel":
		// Deliveries claimed before the cancel settle before the page
		// says it is cancelled.
		_, _, err = c.Control.Cancel(v.ctx(), by, id)
		done = "Cancelled."
	case "pause":
		_, err = c.Control.Pause(v.ctx(), by, id, "paused in the console")
		done = "Paused."
	case "resume":
		_, err = c.Control.Resume(v.ctx(), by, id)
		done = "Resumed."
	case "retry-failed":
		_, err = c.Control.RetryFailed(v.ctx(), by, id)
		done = "The failed deliveries will be tried again."
	default:
		return c.notFound(v)
	}
	if e, ok := fault.As(err); ok {
		c.setFlash(v, "error", e.Error())
		return seeOther(v, back)
	}
	if err != nil {
		return err
	}
	c.Logger.Info("console: announcement "+v.r.PathValue("action"), "announcement", id, "by", v.me.Email)
	c.setFlash(v, "ok", done)
	return seeOther(v, back)
}
