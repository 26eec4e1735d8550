package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/web"
	"github.com/heraldhq/herald/scheduler"
)

// operationsTabs are the operations pages: what runs herald (jobs, relay,
// queues) and what it sends from (invoices, templates, API tokens). The
// admins' own are shown to admins only; the others are refused them.
func (v *visit) operationsTabs(current string) []web.NavItem {
	tabs := []web.NavItem{
		{Href: "/console/jobs", Label: "Jobs", Current: current == "jobs"},
		{Href: "/console/invoices", Label: "Invoices", Current: current == "invoices"},
		{Href: "/console/templates", Label: "Templates", Current: current == "templates"},
		{Href: "/console/relay", Label: "Relay", Current: current == "relay"},
	}
	if v.can(staff.Admin) {
		tabs = append(tabs,
			web.NavItem{Href: "/console/tokens", Label: "API tokens", Current: current == "tokens"},
			web.NavItem{Href: queuesRoot + "/", Label: "Queues"})
	}
	return tabs
}

// operations opens the first of the operations pages.
func (c *Console) operations(v *visit) error { return seeOther(v, "/console/jobs") }

type jobsView struct {
	Rows []jobRow
	// Zone names the staff member's timezone, which the times are in.
	Zone string
}

type jobRow struct {
	Name, Spec, LastRun, Took, Result, Error, NextRun string
	// Run is the admin's button that runs the job now.
	Run *action
}

// jobs lists the scheduler's jobs with their last run, whichever replica
// ran it, and their next, as GET /api/v1/jobs does.
func (c *Console) jobs(v *visit) error {
	statuses, err := c.Runner.Statuses(v.ctx(), c.Jobs.List(), c.Jobs.Location, c.Jobs.Now())
	if err != nil {
		return err
	}
	view := jobsView{Zone: v.me.Location().String()}
	csrf := ""
	if v.can(staff.Admin) {
		csrf = c.csrf(v)
	}
	for _, st := range statuses {
		row := jobRow{Name: st.Name, Spec: st.Spec, NextRun: v.in(st.NextRun)}
		if r := st.LastRun; r != nil {
			row.LastRun, row.Result, row.Error = v.in(r.StartedAt), r.Result, r.Error
			row.Took = took(r.FinishedAt.Sub(r.StartedAt))
		}
		if csrf != "" {
			row.Run = &action{Action: "/console/jobs/" + url.PathEscape(st.Name) + "/run", Label: "Run " + st.Name + " now", CSRF: csrf}
		}
		view.Rows = append(view.Rows, row)
	}
	return c.render(v, http.StatusOK, pageJobs, "Jobs", "operations/jobs", view)
}

// runJob runs a job now through the scheduler's runner, as the API's
// POST /jobs/… does: under the job's lease, counted and recorded as its
// last run, which names the admin.
func (c *Console) runJob(v *visit) error {
	name := v.r.PathValue("name")
	j, ok := c.Jobs.Job(name)
	if !ok {
		c.errorPage(v, http.StatusNotFound, "Not found", "There is no such job.")
		return nil
	}
	res, err := c.Runner.RunBy(v.ctx(), j, v.actor())
	switch {
	case errors.Is(err, scheduler.ErrBusy):
		c.setFlash(v, "error", fmt.Sprintf("%s is running elsewhere now; run it again when it has finished.", name))
	case err != nil:
		if _, ok := fault.As(err); !ok {
			c.Logger.Error("console: job run failed", "job", name, "err", err)
		}
		c.setFlash(v, "error", fmt.Sprintf("%s failed: %s", name, fault.Shorten(err.Error(), fault.MaxEchoError)))
	default:
		c.Logger.Info("console: job run", "job", name, "by", v.me.Email)
		c.setFlash(v, "ok", fmt.Sprintf("%s ran: %s.", name, res))
	}
	return seeOther(v, "/console/jobs")
}

// took says how long a run took, to the millisecond.
func took(d time.Duration) string {
	if d < time.Millisecond {
		return "under 1ms"
	}
	return d.Round(time.Millisecond).String()
}
