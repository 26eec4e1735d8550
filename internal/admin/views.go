package admin

import (
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/page"
)

type licenseView struct {
	ID                string       `json:"id"`
	Product           string       `json:"product"`
	Name              string       `json:"name"`
	Status            string       `json:"status"`
	Timezone          string       `json:"timezone"`
	TechnicalContacts []memberView `json:"technical_contacts"`
	BillingContacts   []memberView `json:"billing_contacts"`
	CreatedAt         time.Time    `json:"created_at"`
	UpdatedAt         time.Time    `json:"updated_at"`
}

type memberView struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Main  bool   `json:"main"`
}

type contactView struct {
	Email            string           `json:"email"`
	Name             string           `json:"name"`
	Locale           string           `json:"locale"`
	ReleaseOptOut    bool             `json:"release_opt_out"`
	BroadcastOptOut  bool             `json:"broadcast_opt_out"`
	Suppressed       bool             `json:"suppressed"`
	SuppressedReason string           `json:"suppressed_reason,omitempty"`
	Suppression      *suppressionView `json:"suppression,omitempty"`
	Memberships      []membershipView `json:"memberships"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
}

// suppressionView is a suppression of an address: lifted_at and lifted_by
// only once it is lifted.
type suppressionView struct {
	Email string `json:"email"`
	Reply string `json:"reply"`
	// Code and DeliveryID are null when not known: suppressions from
	// before herald recorded them.
	Code         *int       `json:"code"`
	Enhanced     string     `json:"enhanced"`
	DeliveryID   *int64     `json:"delivery_id"`
	SuppressedAt time.Time  `json:"suppressed_at"`
	LiftedAt     *time.Time `json:"lifted_at,omitempty"`
	LiftedBy     string     `json:"lifted_by,omitempty"`
}

type membershipView struct {
	LicenseID string `json:"license_id"`
	Product   string `json:"product"`
	Role      string `json:"role"`
	Main      bool   `json:"main"`
}

// listView is the list shape of API.md; Next is null on the last page.
type listView[T any] struct {
	Items []T     `json:"items"`
	Next  *string `json:"next"`
}

func newLicenseView(l contacts.License) licenseView {
	return licenseView{
		ID: l.ID, Product: l.Product, Name: l.Name, Status: string(l.Status), Timezone: l.Timezone,
		TechnicalContacts: memberViews(l.Technical),
		BillingContacts:   memberViews(l.Billing),
		CreatedAt:         l.CreatedAt, UpdatedAt: l.UpdatedAt,
	}
}

func memberViews(ms []contacts.Member) []memberView {
	out := make([]memberView, len(ms))
	for i, m := range ms {
		out[i] = memberView{Email: m.Email, Name: m.Name, Main: m.Main}
	}
	return out
}

func newContactView(c contacts.Contact) contactView {
	v := contactView{
		Email: c.Email, Name: c.Name, Locale: c.Locale, ReleaseOptOut: c.ReleaseOptOut, BroadcastOptOut: c.BroadcastOptOut,
		Memberships: make([]membershipView, len(c.Memberships)),
		CreatedAt:   c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
	if c.Suppression != nil {
		sv := newSuppressionView(*c.Suppression)
		v.Suppressed, v.SuppressedReason, v.Suppression = true, c.Suppression.Reply, &sv
	}
	for i, m := range c.Memberships {
		v.Memberships[i] = membershipView{LicenseID: m.LicenseID, Product: m.Product, Role: string(m.Role), Main: m.Main}
	}
	return v
}

func newSuppressionView(r contacts.SuppressionRecord) suppressionView {
	v := suppressionView{
		Email: r.Email, Reply: r.Reply, Enhanced: r.Enhanced,
		SuppressedAt: r.SuppressedAt, LiftedAt: r.LiftedAt, LiftedBy: r.LiftedBy,
	}
	if r.Code != 0 {
		v.Code = &r.Code
	}
	if r.DeliveryID != 0 {
		v.DeliveryID = &r.DeliveryID
	}
	return v
}

func newListView[T, V any](p page.Page[T], view func(T) V) listView[V] {
	out := listView[V]{Items: make([]V, len(p.Items))}
	for i, item := range p.Items {
		out.Items[i] = view(item)
	}
	if p.Next != "" {
		out.Next = &p.Next
	}
	return out
}
