package kinds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/staff"
	"github.com/heraldhq/herald/templates"
)

// StaffSignIn is the mail with a link that signs a staff member in to the
// console. Like SignIn it is transactional and urgent; its link points at
// HERALD_HTTP_ADDR (the console is never on the public listener) and
// opens only the console's realm.
const StaffSignIn ledger.Kind = "staff_sign_in"

const staffSignInTemplate = "staff_sign_in"

// StaffSignInAnnouncement is the console sign-in mail to email; key makes
// each request its own announcement.
func StaffSignInAnnouncement(email, key string) ledger.NewAnnouncement {
	return ledger.NewAnnouncement{
		Kind:      StaffSignIn,
		DedupeKey: "staff_sign_in:" + key,
		Template:  staffSignInTemplate,
		Subject:   "Your console sign-in link",
		Params:    struct{}{},
		Audience:  SignInAudience{Email: email},
	}
}

// StaffSignInData is the data of the staff_sign_in template.
type StaffSignInData struct {
	Recipient Recipient `json:"recipient"`
	// URL signs in once, within Minutes minutes.
	URL     string `json:"url"`
	Minutes int    `json:"minutes"`
	// SignInURL is the console's sign-in page, to ask for a new link.
	SignInURL string `json:"sign_in_url"`
}

type staffSignInKind struct {
	staff      *staff.Store
	links      SignInLinks
	consoleURL string
	ttl        time.Duration
}

func (k *staffSignInKind) Name() ledger.Kind { return StaffSignIn }

func (k *staffSignInKind) Urgent() bool { return true }

func (k *staffSignInKind) Templates() []templates.Spec {
	return []templates.Spec{{Name: staffSignInTemplate, Sample: func() any {
		return &StaffSignInData{
			Recipient: Recipient{Email: "ada@example.com"},
			URL:       "http://herald.internal:8080/console/sign-in/sample-token",
			Minutes:   15,
			SignInURL: "http://herald.internal:8080/console/sign-in",
		}
	}}}
}

func (k *staffSignInKind) Open(a ledger.Announcement) (Announcement, error) {
	s := &staffSignInAnnouncement{kind: k}
	var params struct{}
	if err := decode(a, &params, &s.audience); err != nil {
		return nil, err
	}
	if k.links == nil || k.staff == nil {
		return nil, fmt.Errorf("a console sign-in mail needs the console's sign-in links, and this herald has none")
	}
	return s, nil
}

type staffSignInAnnouncement struct {
	kind     *staffSignInKind
	audience SignInAudience
}

func (s *staffSignInAnnouncement) Audience() ledger.Audience {
	return ledger.Audience{Query: `SELECT email FROM staff WHERE email = ?`, Args: []any{s.audience.Email}}
}

func (s *staffSignInAnnouncement) Batch(ctx context.Context, emails []string) (Batch, error) {
	b := &staffSignInBatch{staffSignInAnnouncement: s, tokens: map[string]string{}}
	for _, email := range emails {
		m, err := s.kind.staff.Get(ctx, email)
		if errors.Is(err, staff.ErrNotFound) {
			continue // removed since: no way in
		}
		if err != nil {
			return nil, err
		}
		token, err := s.kind.links.CreateLink(ctx, m.Email)
		if err != nil {
			return nil, err
		}
		b.tokens[email] = token
	}
	return b, nil
}

type staffSignInBatch struct {
	*staffSignInAnnouncement
	tokens map[string]string
}

func (b *staffSignInBatch) Check(context.Context) (string, error) { return "", nil }

func (b *staffSignInBatch) Compose(email string) (Draft, string) {
	token, found := b.tokens[email]
	if !found {
		return Draft{}, "no longer staff"
	}
	return Draft{
		Template: staffSignInTemplate,
		Headers:  [][2]string{autoSubmitted},
		Data: &StaffSignInData{
			Recipient: Recipient{Email: email},
			URL:       b.kind.consoleURL + "/console/sign-in/" + token,
			Minutes:   int(b.kind.ttl / time.Minute),
			SignInURL: b.kind.consoleURL + "/console/sign-in",
		},
	}, ""
}
