package ledger

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
)

// NewBroadcast is a message written by staff to a chosen audience.
type NewBroadcast struct {
	Subject  string
	Body     string // Markdown
	Audience BroadcastAudience
	SendAt   time.Time
}

// BroadcastAudience is who a broadcast goes to: the contacts of active
// licenses holding one of Roles (all when empty), of Products and Licenses
// when given, only the main ones when MainOnly; each address once.
type BroadcastAudience struct {
	Roles    []contacts.Role `json:"roles"`
	Products []string        `json:"products"`
	Licenses []string        `json:"licenses"`
	MainOnly bool            `json:"main_only"`
}

// BroadcastParams are what a broadcast's template needs.
type BroadcastParams struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Query returns the audience's query for Resolve and dry runs.
func (aud BroadcastAudience) Query() (string, []any) {
	return contacts.BroadcastAudienceQuery(aud.Roles, aud.Products, aud.Licenses, aud.MainOnly)
}

// Normalize checks a broadcast, naming fields as JSON paths.
func (nb *NewBroadcast) Normalize() error {
	nb.Subject = strings.TrimSpace(nb.Subject)
	if nb.Subject == "" {
		return fault.Invalid("subject", "is required")
	}
	if strings.ContainsAny(nb.Subject, "\r\n") {
		return fault.Invalid("subject", "must not contain line breaks")
	}
	var err error
	if nb.Subject, err = contacts.NormalizeName("subject", nb.Subject, true); err != nil {
		return err
	}
	if strings.TrimSpace(nb.Body) == "" {
		return fault.Invalid("body", "is required")
	}
	if !utf8.ValidString(nb.Body) || strings.ContainsRune(nb.Body, 0) {
		return fault.Invalid("body", "must be UTF-8 text without NUL characters")
	}
	if len(nb.Body) > maxNotes {
		return fault.Invalid("body", "is longer than %d bytes", maxNotes)
	}
	aud := &nb.Audience
	for _, list := range []struct {
		field string
		n     int
	}{{"audience.roles", len(aud.Roles)}, {"audience.products", len(aud.Products)}, {"audience.licenses", len(aud.Licenses)}} {
		if list.n > maxAudienceList {
			return fault.Invalid(list.field, "lists %d values; at most %d can be named (leave it out to mean all)", list.n, maxAudienceList)
		}
	}
	for i, r := range aud.Roles {
		if aud.Roles[i], err = contacts.ParseRole(fmt.Sprintf("audience.roles[%d]", i), string(r)); err != nil {
			return err
		}
	}
	for i, p := range aud.Products {
		if aud.Products[i], err = contacts.NormalizeProduct(fmt.Sprintf("audience.products[%d]", i), p); err != nil {
			return err
		}
	}
	for i, id := range aud.Licenses {
		if err := contacts.ValidateLicenseID(fmt.Sprintf("audience.licenses[%d]", i), id); err != nil {
			return err
		}
	}
	aud.Roles = slices.Compact(slices.Sorted(slices.Values(aud.Roles)))
	aud.Products = slices.Compact(slices.Sorted(slices.Values(aud.Products)))
	aud.Licenses = slices.Compact(slices.Sorted(slices.Values(aud.Licenses)))
	return nil
}

// maxAudienceList bounds each list of an audience: every value is a bind
// parameter, and databases take some tens of thousands at most.
const maxAudienceList = 1000

// CreateBroadcast stores a broadcast. Every broadcast is new: its dedupe
// key is random.
func (l *Ledger) CreateBroadcast(ctx context.Context, nb NewBroadcast) (Announcement, error) {
	if err := nb.Normalize(); err != nil {
		return Announcement{}, err
	}
	var a Announcement
	err := l.db.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		a, _, err = l.Create(ctx, tx, NewAnnouncement{
			Kind:      KindBroadcast,
			DedupeKey: "broadcast:" + strings.ToLower(rand.Text()),
			Template:  "broadcast",
			Subject:   nb.Subject,
			Params:    BroadcastParams{Subject: nb.Subject, Body: nb.Body},
			Audience:  nb.Audience,
			SendAt:    nb.SendAt,
		})
		return err
	})
	if err != nil {
		return Announcement{}, fmt.Errorf("create broadcast: %w", err)
	}
	return l.Get(ctx, a.ID)
}
