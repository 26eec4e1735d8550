package contacts

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

// Via is the way a change reached herald.
type Via string

const (
	ViaPortal  Via = "portal"
	ViaAPI     Via = "api"     // Name: the API token's name
	ViaCSV     Via = "csv"     // Name: the token name or CLI user that imported
	ViaCLI     Via = "cli"     // Name: the user who ran the command
	ViaConsole Via = "console" // Name: the staff member's address
)

// Vias lists every way, for checking filters.
var Vias = []Via{ViaPortal, ViaAPI, ViaCSV, ViaCLI, ViaConsole}

// Actor is who made a change: the way, and the person's address (portal,
// console), token name (API) or user (CLI).
type Actor struct {
	Via  Via
	Name string
}

func (a Actor) String() string { return string(a.Via) + ":" + a.Name }

// Who is how a suppression names who lifted it, and a pause who paused,
// as they did before the audit log kept actors: "token:NAME" for the API,
// "cli:USER" for the command line, "console:EMAIL" for the console.
func (a Actor) Who() string {
	switch a.Via {
	case ViaAPI:
		return "token:" + a.Name
	case ViaCLI:
		return "cli:" + a.Name
	}
	return a.String()
}

// person is the address of the contact who made a change through the
// portal, and empty for staff: a person is not told of their own changes.
func (a Actor) person() string {
	if a.Via == ViaPortal {
		return a.Name
	}
	return ""
}

// check refuses a change that says nobody made it: every membership change
// is audited, so a caller that forgot its actor is a bug, not a request.
func (a Actor) check() error {
	if !slices.Contains(Vias, a.Via) || strings.TrimSpace(a.Name) == "" {
		return fmt.Errorf("a change to contacts needs who makes it, got %q", a.String())
	}
	return nil
}

// Action is what a change did to a membership.
type Action string

const (
	Added    Action = "added"
	Removed  Action = "removed"
	Promoted Action = "promoted"
)

// Actions on no membership: they name no license and no role.
const (
	// TokenCreated and TokenRevoked name the API token in TokenName.
	TokenCreated Action = "token_created"
	TokenRevoked Action = "token_revoked"
	// SuppressionLifted names the address whose suppression was lifted.
	SuppressionLifted Action = "suppression_lifted"
	// Erased names the person erased only by the hash that replaced their
	// address (see Erase): the log must not keep what was erased.
	Erased Action = "erased"
)

// Actions of staff on what is not a contact; Detail says what changed.
const (
	// LicenseUpdated names the license; Detail lists each field changed
	// ("status: active → cancelled").
	LicenseUpdated Action = "license_updated"
	// StaffAdded, StaffRoleChanged and StaffRemoved name the staff
	// member in Email and their role in Detail.
	StaffAdded       Action = "staff_added"
	StaffRoleChanged Action = "staff_role_changed"
	StaffRemoved     Action = "staff_removed"
	// The announcement actions name the announcement in Detail.
	AnnouncementCreated   Action = "announcement_created"
	AnnouncementPaused    Action = "announcement_paused"
	AnnouncementResumed   Action = "announcement_resumed"
	AnnouncementCancelled Action = "announcement_cancelled"
	AnnouncementRetried   Action = "announcement_retried"
	// JobRun names the job run by hand in Detail.
	JobRun Action = "job_run"
	// SESSubscriptionConfirmed: staff confirmed the SNS subscription of
	// HERALD_SES_TOPIC_ARN that Detail names.
	SESSubscriptionConfirmed Action = "ses_subscription_confirmed"
)

// AuditEntry is one change to a license's contacts, or to who may use the
// API (tokens), or to whom herald may mail (suppressions, erasures).
type AuditEntry struct {
	ID        int64
	LicenseID string
	Action    Action
	Email     string
	Role      Role
	// Main says whether Email is the main contact of Role after the
	// change; PreviousMain is the main contact a promotion (or an add as
	// main) replaced.
	Main         bool
	PreviousMain string
	// TokenName is the API token an entry on a token is about.
	TokenName string
	// Detail says in words what an action on no membership changed.
	Detail string
	By     Actor
	At     time.Time
}

// AuditFilter selects audit entries; empty fields select everything.
type AuditFilter struct {
	LicenseID string
	// Email selects the entries about that address.
	Email string
	Via   Via
	Page  page.Request
}

// Notice is what a Notifier is told of one audited change: the entry, the
// license as the change left it, and who should hear of it.
type Notice struct {
	Entry   AuditEntry
	License LicenseRef
	// Product and ProductName are the license's product: its key and its
	// display name (the key when it has none).
	Product, ProductName string
	// Tell are the addresses to tell: the person changed and the main
	// contacts of both roles, before and after, but never the person who
	// made the change.
	Tell []string
}

// Notifier hears of every audited change in the change's transaction, so
// that what it stores (the announcements of the notices) is stored with
// the change or not at all. What it returns runs after the commit (the
// announcements' fan-out is enqueued then).
type Notifier interface {
	Notify(ctx context.Context, tx *sqlx.Tx, n Notice) (after func(context.Context), err error)
}

// SetNotifier makes n hear of every change from now on. Without one,
// changes are audited and nobody is told.
func (s *Store) SetNotifier(n Notifier) { s.notifier = n }

// changeSet is what one transaction did to memberships, kept until its end
// to be audited and announced.
type changeSet struct {
	by      Actor
	entries []AuditEntry
	// created are the licenses the transaction made: their first contacts
	// are audited but nobody is told, since a new license has nobody to
	// warn and a vendor loading its customers should not mail them all.
	created map[string]bool
}

func (cs *changeSet) add(e AuditEntry) { cs.entries = append(cs.entries, e) }

// write runs change in a transaction as by, then audits what it did and
// tells the notifier, in the same transaction; once committed it runs what
// the notifier asked to run.
func (s *Store) write(ctx context.Context, by Actor, change func(tx *sqlx.Tx, cs *changeSet) error) error {
	if err := by.check(); err != nil {
		return err
	}
	var after []func(context.Context)
	err := s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		// InTx may run this again after a serialization failure: start
		// each attempt afresh.
		cs := &changeSet{by: by, created: map[string]bool{}}
		after = nil
		if err := change(tx, cs); err != nil {
			return err
		}
		var err error
		after, err = s.audit(ctx, tx, cs)
		return err
	})
	if err != nil {
		return err
	}
	for _, fn := range after {
		fn(ctx)
	}
	return nil
}

// audit writes the entries of cs and tells the notifier of each. Entries
// nobody is told of (a new license's, or every one without a notifier) are
// written many to a statement: an import of a million rows audits a million
// memberships. The others are written one at a time, in order, because the
// notice of each reads the log as it stands.
func (s *Store) audit(ctx context.Context, tx *sqlx.Tx, cs *changeSet) ([]func(context.Context), error) {
	var (
		after []func(context.Context)
		quiet = make([][]any, 0, min(len(cs.entries), auditBatch))
	)
	now := s.timestamp()
	flush := func() error {
		_, err := db.InsertValues(ctx, tx, `INSERT INTO audit_log (`+auditColumns+`)`, "", quiet)
		quiet = quiet[:0]
		if err != nil {
			return fmt.Errorf("audit %s's changes: %w", cs.by, err)
		}
		return nil
	}
	for _, e := range cs.entries {
		e.By, e.At = cs.by, now
		if cs.quiet(s.notifier, e) {
			quiet = append(quiet, auditValues(e))
			if len(quiet) >= auditBatch {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		var err error
		if e.ID, err = WriteAudit(ctx, tx, e); err != nil {
			return nil, err
		}
		n, err := s.notice(ctx, tx, e)
		if err != nil {
			return nil, err
		}
		if len(n.Tell) == 0 {
			continue
		}
		fn, err := s.notifier.Notify(ctx, tx, n)
		if err != nil {
			return nil, fmt.Errorf("notify of %s %s on %s: %w", e.Action, e.Email, e.LicenseID, err)
		}
		if fn != nil {
			after = append(after, fn)
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return after, nil
}

// auditBatch is how many entries audit holds before writing them.
const auditBatch = 5000

// quiet says whether nobody is told of e.
func (cs *changeSet) quiet(n Notifier, e AuditEntry) bool { return n == nil || cs.created[e.LicenseID] }

// auditQuiet writes, as audit would, the entries of cs up to the first
// that somebody is to be told of, and forgets them: a long transaction
// (an import) calls it as it goes, to hold few entries in memory.
func (s *Store) auditQuiet(ctx context.Context, tx *sqlx.Tx, cs *changeSet) error {
	n := 0
	for n < len(cs.entries) && cs.quiet(s.notifier, cs.entries[n]) {
		n++
	}
	if n == 0 {
		return nil
	}
	rows := make([][]any, n)
	now := s.timestamp()
	for i, e := range cs.entries[:n] {
		e.By, e.At = cs.by, now
		rows[i] = auditValues(e)
	}
	if _, err := db.InsertValues(ctx, tx, `INSERT INTO audit_log (`+auditColumns+`)`, "", rows); err != nil {
		return fmt.Errorf("audit %s's changes: %w", cs.by, err)
	}
	cs.entries = slices.Delete(cs.entries, 0, n)
	return nil
}

const auditColumns = `license_id, action, email, role, is_main, previous_main, via, actor, created_at, token_name, detail`

// auditValues are e's values in the order of auditColumns.
func auditValues(e AuditEntry) []any {
	return []any{e.LicenseID, e.Action, e.Email, e.Role, e.Main, e.PreviousMain, e.By.Via, e.By.Name, e.At.UTC().Truncate(time.Microsecond), e.TokenName, e.Detail}
}

// WriteAudit writes one entry to the audit log in q (the transaction of
// the change it records) and returns its id. It is how changes outside
// this package (API tokens) are audited alongside those to contacts.
func WriteAudit(ctx context.Context, q sqlx.ExtContext, e AuditEntry) (int64, error) {
	if err := e.By.check(); err != nil {
		return 0, err
	}
	var id int64
	err := db.Get(ctx, q, &id, `
		INSERT INTO audit_log (`+auditColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, auditValues(e)...)
	if err != nil {
		return 0, fmt.Errorf("audit %s %s%s on %q: %w", e.Action, e.Email, e.TokenName, e.LicenseID, err)
	}
	return id, nil
}

// notice says who hears of e: the person changed, the main contacts of
// both roles as the transaction left them and the main contact a promotion
// replaced, each once, and never the person who made the change.
func (s *Store) notice(ctx context.Context, tx *sqlx.Tx, e AuditEntry) (Notice, error) {
	n := Notice{Entry: e, License: LicenseRef{ID: e.LicenseID}, Product: "", ProductName: ""}
	var license struct {
		Name        string `db:"name"`
		Product     string `db:"product"`
		ProductName string `db:"product_name"`
	}
	err := db.Get(ctx, tx, &license, `
		SELECT l.name, l.product, COALESCE(p.name, l.product) AS product_name
		FROM licenses l LEFT JOIN products p ON p.key = l.product WHERE l.id = ?`, e.LicenseID)
	switch {
	case db.IsNoRows(err):
		// The license was deleted: its name is gone with it.
	case err != nil:
		return Notice{}, fmt.Errorf("read license %s: %w", e.LicenseID, err)
	default:
		n.License.Name, n.Product, n.ProductName = license.Name, license.Product, license.ProductName
	}
	var mains []string
	if err := db.Select(ctx, tx, &mains, `SELECT email FROM memberships WHERE license_id = ? AND is_main ORDER BY email`, e.LicenseID); err != nil {
		return Notice{}, fmt.Errorf("read main contacts of %s: %w", e.LicenseID, err)
	}
	tell := append([]string{e.Email, e.PreviousMain}, mains...)
	for _, email := range tell {
		if email != "" && email != e.By.person() && !slices.Contains(n.Tell, email) {
			n.Tell = append(n.Tell, email)
		}
	}
	return n, nil
}

type auditRow struct {
	ID           int64     `db:"id"`
	LicenseID    string    `db:"license_id"`
	Action       Action    `db:"action"`
	Email        string    `db:"email"`
	Role         Role      `db:"role"`
	Main         bool      `db:"is_main"`
	PreviousMain string    `db:"previous_main"`
	TokenName    string    `db:"token_name"`
	Detail       string    `db:"detail"`
	Via          Via       `db:"via"`
	Actor        string    `db:"actor"`
	CreatedAt    time.Time `db:"created_at"`
}

func (r auditRow) entry() AuditEntry {
	return AuditEntry{
		ID: r.ID, LicenseID: r.LicenseID, Action: r.Action, Email: r.Email, Role: r.Role,
		Main: r.Main, PreviousMain: r.PreviousMain, TokenName: r.TokenName, Detail: r.Detail, By: Actor{Via: r.Via, Name: r.Actor}, At: r.CreatedAt.UTC(),
	}
}

// Audit writes one entry on its own, for a change made outside the
// contacts store (an announcement paused, a job run by hand). The change
// is done when it is audited: a failure here is reported, not undone.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	e.At = s.timestamp()
	_, err := WriteAudit(ctx, s.db, e)
	return err
}

// ListAudit returns a page of audit entries, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) (page.Page[AuditEntry], error) {
	limit, afterID, err := f.Page.DecodeID()
	if err != nil {
		return page.Page[AuditEntry]{}, err
	}
	query := `SELECT id, license_id, action, email, role, is_main, previous_main, token_name, detail, via, actor, created_at FROM audit_log WHERE TRUE`
	var args []any
	if afterID != 0 {
		query += ` AND id < ?`
		args = append(args, afterID)
	}
	if f.LicenseID != "" {
		if err := ValidateLicenseID("license_id", f.LicenseID); err != nil {
			return page.Page[AuditEntry]{}, err
		}
		query += ` AND license_id = ?`
		args = append(args, f.LicenseID)
	}
	if f.Email != "" {
		// The log keeps addresses as they were stored; look for every
		// form the address may have been stored in.
		forms, err := LookupEmail("email", f.Email)
		if err != nil {
			return page.Page[AuditEntry]{}, err
		}
		q, a, err := db.In(` AND email IN (?)`, forms)
		if err != nil {
			return page.Page[AuditEntry]{}, err
		}
		query += q
		args = append(args, a...)
	}
	if f.Via != "" {
		if !slices.Contains(Vias, f.Via) {
			names := make([]string, len(Vias))
			for i, v := range Vias {
				names[i] = string(v)
			}
			return page.Page[AuditEntry]{}, fault.Invalid("via", "%q is not a way (%s)", f.Via, strings.Join(names, ", "))
		}
		query += ` AND via = ?`
		args = append(args, f.Via)
	}
	query += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	var rows []auditRow
	if err := db.Select(ctx, s.db.Read, &rows, query, args...); err != nil {
		return page.Page[AuditEntry]{}, fmt.Errorf("list audit log: %w", err)
	}
	entries := make([]AuditEntry, len(rows))
	for i, r := range rows {
		entries[i] = r.entry()
	}
	return page.OfID(entries, limit, func(e AuditEntry) int64 { return e.ID }), nil
}
