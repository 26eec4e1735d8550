package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
)

type announcementsView struct {
	Rows        []announcementRow
	Next, First string
}

type announcementRow struct {
	ID                         int64
	Href, Kind, Subject        string
	Status, Created, Finished  string
	Recipients, Sent, Failed   int
	Skipped, Pending, Progress int
}

// done is how many deliveries are over (sent, failed, skipped or
// cancelled), for the progress bar.
func done(c ledger.Counts) int { return c.Sent + c.Failed + c.Skipped + c.Cancelled }

func (v *visit) announcementRow(a ledger.Announcement) announcementRow {
	r := announcementRow{ID: a.ID, Href: "/console/announcements/" + strconv.FormatInt(a.ID, 10), Kind: string(a.Kind), Subject: a.Subject,
		Status: string(a.Status), Created: v.in(a.CreatedAt), Recipients: a.Counts.Recipients, Sent: a.Counts.Sent,
		Failed: a.Counts.Failed, Skipped: a.Counts.Skipped, Pending: a.Counts.Pending + a.Counts.Sending, Progress: done(a.Counts)}
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
	var view announcementsView
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
	return c.render(v, http.StatusOK, pageAnnouncement, "Announcement "+strconv.FormatInt(a.ID, 10)+" · "+a.Subject, "announcements", row)
}
