package contacts

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/db"
)

// ReleaseAudienceQuery selects, once per address, every technical contact of
// an active license of product: who hears of its releases. It returns the
// query and its arguments, for the ledger to insert deliveries from.
func ReleaseAudienceQuery(product string) (string, []any) {
	return `SELECT DISTINCT m.email FROM memberships m JOIN licenses l ON l.id = m.license_id
		WHERE l.product = ? AND l.status = ? AND m.role = ?`, []any{product, Active, Technical}
}

// BillingAudienceQuery selects the billing contacts of one license: only
// its main billing contact when mainOnly is set.
func BillingAudienceQuery(licenseID string, mainOnly bool) (string, []any) {
	query := `SELECT m.email FROM memberships m WHERE m.license_id = ? AND m.role = ?`
	if mainOnly {
		query += ` AND m.is_main`
	}
	return query, []any{licenseID, Billing}
}

// Scope says which licenses a recipient's message names: those of a
// product that are active (release notices), one license whatever its
// status (invoice reminders), or none (broadcasts, the zero Scope).
type Scope struct {
	Product   string
	LicenseID string
}

// Recipient is what a message needs to know of the person it goes to, as
// they are now.
type Recipient struct {
	Email           string
	Name            string
	Locale          string
	ReleaseOptOut   bool
	BroadcastOptOut bool
	Suppressed      bool
	// Licenses are the licenses in scope on which the person holds the
	// role asked for.
	Licenses []LicenseRef
}

// LicenseRef names a license.
type LicenseRef struct {
	ID   string `db:"id"`
	Name string `db:"name"`
}

// Recipients returns, for each known address in emails, the person and the
// licenses in scope on which they hold role; two queries for any number of
// addresses.
func (s *Store) Recipients(ctx context.Context, emails []string, role Role, scope Scope) (map[string]Recipient, error) {
	out := make(map[string]Recipient, len(emails))
	if len(emails) == 0 {
		return out, nil
	}
	query, args, err := db.In(`SELECT `+contactColumns+` FROM contacts c WHERE c.email IN (?)`, emails)
	if err != nil {
		return nil, err
	}
	var people []contactRow
	if err := db.Select(ctx, s.db.Read, &people, query, args...); err != nil {
		return nil, fmt.Errorf("load recipients: %w", err)
	}
	for _, p := range people {
		out[p.Email] = Recipient{Email: p.Email, Name: p.Name, Locale: p.Locale, ReleaseOptOut: p.ReleaseOptOut, BroadcastOptOut: p.BroadcastOptOut, Suppressed: p.SuppressedAt.Valid}
	}
	if scope == (Scope{}) {
		return out, nil // no licenses to name (broadcasts)
	}
	// CROSS JOIN tells SQLite to drive from the memberships of these few
	// addresses; left to itself it may start from every license of the
	// product and filter, which is a scan per batch. PostgreSQL plans it as
	// the inner join it is.
	licenses, licenseArgs := `l.product = ? AND l.status = ?`, []any{scope.Product, Active}
	if scope.LicenseID != "" {
		licenses, licenseArgs = `l.id = ?`, []any{scope.LicenseID}
	}
	query, args, err = db.In(`
		SELECT m.email, l.id, l.name FROM memberships m CROSS JOIN licenses l
		WHERE l.id = m.license_id AND m.email IN (?) AND m.role = ? AND `+licenses+`
		ORDER BY m.email, l.id`, append([]any{emails, role}, licenseArgs...)...)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Email string `db:"email"`
		LicenseRef
	}
	if err := db.Select(ctx, s.db.Read, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("load licenses of recipients: %w", err)
	}
	for _, r := range rows {
		rec := out[r.Email]
		rec.Licenses = append(rec.Licenses, r.LicenseRef)
		out[r.Email] = rec
	}
	return out, nil
}

// BroadcastAudienceQuery selects, once per address, the contacts of active
// licenses that hold one of roles (every role when empty), narrowed to
// products and licenses when those are given, and to main contacts when
// mainOnly is set.
func BroadcastAudienceQuery(roles []Role, products, licenseIDs []string, mainOnly bool) (string, []any) {
	if len(roles) == 0 {
		roles = Roles
	}
	query := `SELECT DISTINCT m.email FROM memberships m JOIN licenses l ON l.id = m.license_id WHERE l.status = ?`
	args := []any{Active}
	in := func(column string, values []string) {
		query += ` AND ` + column + ` IN (?` + strings.Repeat(`, ?`, len(values)-1) + `)`
		for _, v := range values {
			args = append(args, v)
		}
	}
	roleNames := make([]string, len(roles))
	for i, r := range roles {
		roleNames[i] = string(r)
	}
	in("m.role", roleNames)
	if len(products) > 0 {
		in("l.product", products)
	}
	if len(licenseIDs) > 0 {
		in("l.id", licenseIDs)
	}
	if mainOnly {
		query += ` AND m.is_main`
	}
	return query, args
}

// InAudience returns which of emails an audience query still selects.
func (s *Store) InAudience(ctx context.Context, query string, args []any, emails []string) (map[string]bool, error) {
	in := make(map[string]bool, len(emails))
	if len(emails) == 0 {
		return in, nil
	}
	q := `SELECT a.email FROM (` + query + `) a WHERE a.email IN (?` + strings.Repeat(`, ?`, len(emails)-1) + `)`
	all := append([]any{}, args...)
	for _, e := range emails {
		all = append(all, e)
	}
	var found []string
	if err := db.Select(ctx, s.db.Read, &found, q, all...); err != nil {
		return nil, fmt.Errorf("audience membership: %w", err)
	}
	for _, e := range found {
		in[e] = true
	}
	return in, nil
}

// OptOut is a kind of mail a contact can leave: the column of contacts that
// says they did.
type OptOut string

const (
	// NoOptOut is transactional mail, which reaches everyone who is not
	// suppressed.
	NoOptOut        OptOut = ""
	ReleaseOptOut   OptOut = "release_opt_out"
	BroadcastOptOut OptOut = "broadcast_opt_out"
)

// Column is the SQL that is true for an opted-out contact c: only the
// known columns, never text from elsewhere.
func (o OptOut) Column() string {
	switch o {
	case ReleaseOptOut, BroadcastOptOut:
		return "c." + string(o)
	}
	return "FALSE"
}

// AudienceCount is who an audience query reaches.
type AudienceCount struct {
	// Recipients will be sent to; Skipped opted out (of the kind of mail
	// counted) or are suppressed.
	Recipients int
	Skipped    int
	// Sample is up to 20 of the recipients, by address.
	Sample []string
}

// CountAudience counts what an audience query reaches without storing
// anything: what a dry run shows. Those who left optOut, and the
// suppressed, are skipped, as the fan-out skips them. The database counts;
// only the sample comes back as rows, however large the audience.
func (s *Store) CountAudience(ctx context.Context, query string, args []any, optOut OptOut) (AudienceCount, error) {
	skip := "c.suppressed_at IS NOT NULL OR " + optOut.Column()
	from := `FROM (` + query + `) a JOIN contacts c ON c.email = a.email`
	var counts struct {
		Recipients int `db:"recipients"`
		Skipped    int `db:"skipped"`
	}
	err := db.Get(ctx, s.db.Read, &counts, `
		SELECT COALESCE(SUM(CASE WHEN `+skip+` THEN 0 ELSE 1 END), 0) AS recipients,
		       COALESCE(SUM(CASE WHEN `+skip+` THEN 1 ELSE 0 END), 0) AS skipped `+from, args...)
	if err != nil {
		return AudienceCount{}, fmt.Errorf("count audience: %w", err)
	}
	out := AudienceCount{Recipients: counts.Recipients, Skipped: counts.Skipped, Sample: []string{}}
	if err := db.Select(ctx, s.db.Read, &out.Sample, `SELECT a.email `+from+` WHERE NOT (`+skip+`) ORDER BY a.email LIMIT 20`, args...); err != nil {
		return AudienceCount{}, fmt.Errorf("sample audience: %w", err)
	}
	return out, nil
}
