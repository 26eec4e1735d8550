package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/internal/web"
)

type staffView struct {
	CSRF    string
	Members []staffRow
	Add     staffForm
}

type staffRow struct {
	Email, Role, Timezone, Added string
	Me                           bool
	Roles                        []option
}

type staffForm struct {
	Email, Timezone string
	Roles           []option
	Errors          map[string]string
}

func roleOptions(selected staff.Role) []option {
	var opts []option
	for _, r := range staff.Roles {
		opts = append(opts, option{Value: string(r), Label: string(r), Selected: r == selected})
	}
	return opts
}

// staffPage lists the staff, for admins, with forms to add, change the
// role of and remove a member.
func (c *Console) staffPage(v *visit) error { return c.showStaff(v, http.StatusOK, nil) }

func (c *Console) showStaff(v *visit, status int, add *staffForm) error {
	list, err := c.Staff.List(v.ctx())
	if err != nil {
		return err
	}
	view := staffView{CSRF: c.csrf(v)}
	for _, m := range list {
		view.Members = append(view.Members, staffRow{Email: m.Email, Role: string(m.Role), Timezone: m.Timezone,
			Added: v.in(m.CreatedAt), Me: m.Email == v.me.Email, Roles: roleOptions(m.Role)})
	}
	if add == nil {
		add = &staffForm{}
	}
	if add.Roles == nil {
		add.Roles = roleOptions(staff.Viewer)
	}
	view.Add = *add
	return c.render(v, status, pageStaff, "Staff", "staff", view)
}

func (c *Console) addStaff(v *visit) error {
	form := staffForm{Email: strings.TrimSpace(v.r.PostFormValue("email")), Timezone: strings.TrimSpace(v.r.PostFormValue("timezone"))}
	role, err := staff.ParseRole("role", v.r.PostFormValue("role"))
	form.Roles = roleOptions(role)
	var m staff.Member
	if err == nil {
		m, err = c.Staff.Add(v.ctx(), v.actor(), form.Email, role, form.Timezone)
	}
	if e, ok := fault.As(err); ok {
		if e.Field != "" {
			form.Errors = map[string]string{e.Field: e.Message}
		}
		v.flash = &webFlash{Kind: "error", Text: e.Error()}
		return c.showStaff(v, web.Status(e), &form)
	}
	if err != nil {
		return err
	}
	c.Logger.Info("console: staff added", "email", m.Email, "role", m.Role, "by", v.me.Email)
	c.setFlash(v, "ok", fmt.Sprintf("Added %s as %s %s.", m.Email, article(m.Role), m.Role))
	return seeOther(v, "/console/staff")
}

func (c *Console) setStaffRole(v *visit) error {
	role, err := staff.ParseRole("role", v.r.PostFormValue("role"))
	var m staff.Member
	if err == nil {
		m, err = c.Staff.SetRole(v.ctx(), v.actor(), v.r.PostFormValue("email"), role)
	}
	if err != nil {
		return c.staffRefusal(v, err)
	}
	c.Logger.Info("console: staff role set", "email", m.Email, "role", m.Role, "by", v.me.Email)
	c.setFlash(v, "ok", fmt.Sprintf("%s is now %s %s.", m.Email, article(m.Role), m.Role))
	if m.Email == v.me.Email && !m.Role.AtLeast(staff.Admin) {
		return seeOther(v, "/console/sign-in") // their own session ended
	}
	return seeOther(v, "/console/staff")
}

func (c *Console) removeStaff(v *visit) error {
	m, err := c.Staff.Remove(v.ctx(), v.actor(), v.r.PostFormValue("email"))
	if err != nil {
		return c.staffRefusal(v, err)
	}
	c.Logger.Info("console: staff removed", "email", m.Email, "by", v.me.Email)
	c.setFlash(v, "ok", fmt.Sprintf("Removed %s; their sessions have ended.", m.Email))
	if m.Email == v.me.Email {
		return seeOther(v, "/console/sign-in")
	}
	return seeOther(v, "/console/staff")
}

// staffRefusal shows the staff page again with why a change was refused
// (the last admin, no such member), changing nothing.
func (c *Console) staffRefusal(v *visit, err error) error {
	e, ok := fault.As(err)
	if !ok {
		return err
	}
	v.flash = &webFlash{Kind: "error", Text: e.Error()}
	return c.showStaff(v, web.Status(e), nil)
}

// meView is a staff member's own settings: the timezone the console shows
// and takes times in.
type meView struct {
	Email, Role, Timezone string
	// Now is the time now in the timezone, to check it by.
	Now   string
	CSRF  string
	Error string
}

// mePage shows the staff member's own settings.
func (c *Console) mePage(v *visit) error {
	return c.render(v, http.StatusOK, pageMe, "Your settings", "", c.meView(v, v.me.Timezone, ""))
}

func (c *Console) meView(v *visit, timezone, problem string) meView {
	return meView{Email: v.me.Email, Role: string(v.me.Role), Timezone: timezone, Now: v.in(time.Now()), CSRF: c.csrf(v), Error: problem}
}

// setMe changes the staff member's own timezone; anyone signed in may.
func (c *Console) setMe(v *visit) error {
	tz := strings.TrimSpace(v.r.PostFormValue("timezone"))
	m, err := c.Staff.SetTimezone(v.ctx(), v.me.Email, tz)
	if e, ok := fault.As(err); ok && e.Kind == fault.KindInvalid {
		return c.render(v, http.StatusBadRequest, pageMe, "Your settings", "", c.meView(v, tz, e.Error()))
	}
	if err != nil {
		return err
	}
	c.setFlash(v, "ok", "Times are now shown in "+m.Timezone+".")
	return seeOther(v, "/console/me")
}
