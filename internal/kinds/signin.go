package kinds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/templates"
)

// SignIn is the mail with a link that signs a contact in to the portal. It
// is transactional (no unsubscribe, opt-outs do not apply) and urgent: a
// person waits for it, so it goes ahead of bulk sends.
const SignIn ledger.Kind = "sign_in"

const signInTemplate = "sign_in"

// SignInLinks makes the token of a sign-in link; only its hash is kept,
// and the token goes into the mail and nowhere else. It is made as the
// message is composed, so that no queue or table ever holds it.
type SignInLinks interface {
	CreateLink(ctx context.Context, email string) (token string, err error)
}

// SignInAudience is the one person who asked for a link.
type SignInAudience struct {
	Email string `json:"email"`
}

// SignInAnnouncement is the sign-in mail to email; key makes each request
// its own announcement.
func SignInAnnouncement(email, key string) ledger.NewAnnouncement {
	return ledger.NewAnnouncement{
		Kind:      SignIn,
		DedupeKey: "sign_in:" + key,
		Template:  signInTemplate,
		Subject:   "Your sign-in link",
		Params:    struct{}{},
		Audience:  SignInAudience{Email: email},
	}
}

// SignInData is the data of the sign_in template.
type SignInData struct {
	Recipient Recipient `json:"recipient"`
	// URL signs in once, within Minutes minutes.
	URL     string `json:"url"`
	Minutes int    `json:"minutes"`
	// AccountURL is the portal's address, to ask for a new link.
	AccountURL string `json:"account_url"`
}

type signInKind struct {
	store     *contacts.Store
	links     SignInLinks
	publicURL string
	ttl       time.Duration
}

func (k *signInKind) Name() ledger.Kind { return SignIn }

// Urgent puts the kind's tasks ahead of every bulk send.
func (k *signInKind) Urgent() bool { return true }

func (k *signInKind) Templates() []templates.Spec {
	return []templates.Spec{{Name: signInTemplate, Sample: func() any {
		return &SignInData{
			Recipient:  Recipient{Email: "ann@example.com", Name: "Ann Example"},
			URL:        "https://herald.example.com/account/sign-in/sample-token",
			Minutes:    15,
			AccountURL: "https://herald.example.com/account",
		}
	}}}
}

func (k *signInKind) Open(a ledger.Announcement) (Announcement, error) {
	s := &signInAnnouncement{kind: k}
	var params struct{}
	if err := decode(a, &params, &s.audience); err != nil {
		return nil, err
	}
	if k.links == nil {
		return nil, fmt.Errorf("a sign-in mail needs the portal's sign-in links, and this herald has none")
	}
	return s, nil
}

type signInAnnouncement struct {
	kind     *signInKind
	audience SignInAudience
}

func (s *signInAnnouncement) Audience() ledger.Audience {
	// Transactional: a person who opted out of release notices may still
	// sign in. A suppressed address is skipped by the fan-out.
	return ledger.Audience{Query: `SELECT email FROM contacts WHERE email = ?`, Args: []any{s.audience.Email}}
}

func (s *signInAnnouncement) Batch(ctx context.Context, emails []string) (Batch, error) {
	b := &signInBatch{signInAnnouncement: s, people: map[string]contacts.Contact{}, tokens: map[string]string{}}
	for _, email := range emails {
		c, err := s.kind.store.GetContact(ctx, email)
		if err != nil {
			if errors.Is(err, contacts.ErrNotFound) {
				continue
			}
			return nil, err
		}
		if len(c.Memberships) == 0 {
			continue // no longer a contact of any license: no way in
		}
		token, err := s.kind.links.CreateLink(ctx, c.Email)
		if err != nil {
			return nil, err
		}
		b.people[email], b.tokens[email] = c, token
	}
	return b, nil
}

type signInBatch struct {
	*signInAnnouncement
	people map[string]contacts.Contact
	tokens map[string]string
}

func (b *signInBatch) Check(context.Context) (string, error) { return "", nil }

func (b *signInBatch) Compose(email string) (Draft, string) {
	c, found := b.people[email]
	if !found {
		return Draft{}, "no longer a contact of any license"
	}
	return Draft{
		Template: signInTemplate,
		Locale:   c.Locale,
		ToName:   c.Name,
		Headers:  [][2]string{autoSubmitted},
		Data: &SignInData{
			Recipient:  Recipient{Email: c.Email, Name: c.Name},
			URL:        b.kind.publicURL + "/account/sign-in/" + b.tokens[email],
			Minutes:    int(b.kind.ttl / time.Minute),
			AccountURL: b.kind.publicURL + "/account",
		},
	}, ""
}
