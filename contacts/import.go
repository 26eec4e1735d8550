package contacts

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/csvfile"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// ImportResult counts what an import did. A row is unchanged when the
// database already held it exactly.
type ImportResult struct {
	LicensesCreated    int `json:"licenses_created"`
	LicensesUpdated    int `json:"licenses_updated"`
	ContactsCreated    int `json:"contacts_created"`
	ContactsUpdated    int `json:"contacts_updated"`
	MembershipsCreated int `json:"memberships_created"`
	MembershipsUpdated int `json:"memberships_updated"`
	// ProductsNamed counts the products whose display name the file set
	// or changed; the rows that name them may still be unchanged.
	ProductsNamed int `json:"products_named"`
	Unchanged     int `json:"unchanged"`
}

// Import applies rows read by ReadCSV in one transaction: all of them, or
// none and an *ImportError naming the lines that broke a rule. Products are
// given the names in product_name (an empty one leaves a name as it is),
// licenses created or renamed, people created or renamed, memberships
// created, and a row with main=true promotes its contact. A row never demotes: a role
// changes main only by promoting another contact.
//
// Every membership change is audited as made by by.
//
// Rows are applied a few hundred at a time, set-based: what a group of
// licenses holds is read with one query per table, the rules are applied
// row by row in memory (as they would be one statement at a time), and
// what changed is written with multi-row statements. A million rows take
// seconds, not minutes.
func (s *Store) Import(ctx context.Context, by Actor, rows []Row) (ImportResult, error) {
	// Apply license by license in id order, so that concurrent imports
	// take the licenses' row locks in the same order and cannot deadlock.
	// Within a license, mains first (as CreateLicense does), then file order.
	sorted := slices.Clone(rows)
	slices.SortStableFunc(sorted, func(a, b Row) int {
		if c := cmp.Compare(a.LicenseID, b.LicenseID); c != 0 {
			return c
		}
		return cmp.Compare(boolRank(a.Main), boolRank(b.Main))
	})

	var res ImportResult
	err := s.write(ctx, by, func(tx *sqlx.Tx, cs *changeSet) error {
		res = ImportResult{} // a retried transaction counts again
		if err := s.importProductNames(ctx, tx, rows, &res); err != nil {
			return err
		}
		for group := range licenseGroups(sorted, importGroupRows) {
			if err := s.importGroup(ctx, tx, cs, group, &res); err != nil {
				return err
			}
			if err := s.auditQuiet(ctx, tx, cs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import contacts: %w", err)
	}
	if len(rows) >= analyzeAfter {
		// The import is done; statistics that lag only cost speed.
		_ = s.db.Analyze(ctx, "licenses", "contacts", "memberships")
	}
	return res, nil
}

// analyzeAfter is the size of an import after which the planner's
// statistics are refreshed at once.
const analyzeAfter = 10000

// importProductNames gives the products the names the rows give them
// (ReadCSV has checked that each product has one name).
func (s *Store) importProductNames(ctx context.Context, tx *sqlx.Tx, rows []Row, res *ImportResult) error {
	done := make(map[string]bool)
	for _, r := range rows {
		if r.ProductName == "" || done[r.Product] {
			continue
		}
		done[r.Product] = true
		c, err := s.nameProduct(ctx, tx, r.Product, r.ProductName)
		if err != nil {
			return lineFailure(r.Line, err)
		}
		res.ProductsNamed += boolCount(c != unchanged)
	}
	return nil
}

// importGroupRows is how many rows Import applies at once (more when one
// license has more): enough that a statement carries hundreds of rows,
// few enough that the group's IN lists stay short.
const importGroupRows = 5000

// licenseGroups cuts rows sorted by license into runs of at least n rows
// (the last may be shorter) that never split a license.
func licenseGroups(rows []Row, n int) iter.Seq[[]Row] {
	return func(yield func([]Row) bool) {
		for start := 0; start < len(rows); {
			end := min(start+n, len(rows))
			for end < len(rows) && rows[end].LicenseID == rows[end-1].LicenseID {
				end++
			}
			if !yield(rows[start:end]) {
				return
			}
			start = end
		}
	}
}

// importGroup applies rows, sorted by license, that hold every row of
// their licenses.
func (s *Store) importGroup(ctx context.Context, tx *sqlx.Tx, cs *changeSet, rows []Row, res *ImportResult) error {
	licenses, err := s.importLicenses(ctx, tx, cs, rows, res)
	if err != nil {
		return err
	}
	people, err := s.importPeople(ctx, tx, rows, res)
	if err != nil {
		return err
	}
	memberships, err := s.importMemberships(ctx, tx, cs, rows, res)
	if err != nil {
		return err
	}
	for i := range rows {
		if licenses[i] == unchanged && people[i] == unchanged && memberships[i] == unchanged {
			res.Unchanged++
		}
	}
	return nil
}

// importLicenses creates the licenses of rows that are new, locks (and
// marks updated) those that exist, and renames or moves those the rows
// describe differently. It returns, for each row, what it did to the
// row's license: the first row of a license carries the change.
func (s *Store) importLicenses(ctx context.Context, tx *sqlx.Tx, cs *changeSet, rows []Row, res *ImportResult) ([]change, error) {
	var ids []string
	for i, r := range rows {
		if i == 0 || rows[i-1].LicenseID != r.LicenseID {
			ids = append(ids, r.LicenseID)
		}
	}
	type stored struct {
		ID      string `db:"id"`
		Product string `db:"product"`
		Name    string `db:"name"`
	}
	query, args, err := db.In(`SELECT id, product, name FROM licenses WHERE id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var found []stored
	if err := db.Select(ctx, tx, &found, query, args...); err != nil {
		return nil, fmt.Errorf("read licenses: %w", err)
	}
	existing := make(map[string]stored, len(found))
	var locks []string
	for _, l := range found {
		existing[l.ID] = l
		locks = append(locks, l.ID)
	}
	now := s.timestamp()
	// The row locks are taken whether or not the licenses change: their
	// memberships may. ids are sorted, so the locks are taken in order.
	if len(locks) > 0 {
		slices.Sort(locks)
		query, args, err := db.In(`UPDATE licenses SET updated_at = ? WHERE id IN (?)`, now, locks)
		if err != nil {
			return nil, err
		}
		if _, err := db.Exec(ctx, tx, query, args...); err != nil {
			return nil, fmt.Errorf("lock licenses: %w", err)
		}
	}
	changes := make([]change, len(rows))
	var insert [][]any
	for i, r := range rows {
		if i > 0 && rows[i-1].LicenseID == r.LicenseID {
			continue
		}
		l, ok := existing[r.LicenseID]
		switch {
		case !ok:
			insert = append(insert, []any{r.LicenseID, r.Product, r.LicenseName, now, now})
			cs.created[r.LicenseID] = true
			changes[i] = created
			res.LicensesCreated++
		case l.Product != r.Product || l.Name != r.LicenseName:
			if _, err := db.Exec(ctx, tx, `UPDATE licenses SET product = ?, name = ? WHERE id = ?`, r.Product, r.LicenseName, r.LicenseID); err != nil {
				return nil, lineFailure(r.Line, err)
			}
			changes[i] = updated
			res.LicensesUpdated++
		}
	}
	n, err := db.InsertValues(ctx, tx, `INSERT INTO licenses (id, product, name, created_at, updated_at)`, `ON CONFLICT (id) DO NOTHING`, insert)
	if err != nil {
		return nil, fmt.Errorf("insert licenses: %w", err)
	}
	if n != int64(len(insert)) {
		return nil, errConcurrentImport
	}
	return changes, nil
}

// errConcurrentImport is returned when another transaction created some
// of the licenses or people of an import between its read and its write.
// The import is rolled back whole, and running it again applies it.
var errConcurrentImport = fault.Conflict("another change created some of these licenses or people at the same time; nothing was imported, run the import again")

// importPeople creates the people of rows who are new and renames those a
// row names differently (the last name given wins, as when the rows are
// applied one by one). It returns, for each row, what it did to the row's
// person.
func (s *Store) importPeople(ctx context.Context, tx *sqlx.Tx, rows []Row, res *ImportResult) ([]change, error) {
	var emails []string
	for i := range rows {
		if rows[i].Email == "" {
			continue
		}
		// A person stored before addresses were stored in one form keeps
		// their row, rather than gaining a second one for the same mailbox.
		stored, err := s.storedEmail(ctx, tx, "email", rows[i].Email)
		if err != nil {
			return nil, lineFailure(rows[i].Line, err)
		}
		rows[i].Email = stored
		emails = append(emails, stored)
	}
	changes := make([]change, len(rows))
	if len(emails) == 0 {
		return changes, nil
	}
	type person struct {
		Email string `db:"email"`
		Name  string `db:"name"`
	}
	query, args, err := db.In(`SELECT email, name FROM contacts WHERE email IN (?)`, emails)
	if err != nil {
		return nil, err
	}
	var found []person
	if err := db.Select(ctx, tx, &found, query, args...); err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	names := make(map[string]string, len(emails))
	for _, p := range found {
		names[p.Email] = p.Name
	}
	var (
		fresh   []string // in the order first met
		isFresh = map[string]bool{}
		renamed []string
	)
	for i, r := range rows {
		if r.Email == "" {
			continue
		}
		name, ok := names[r.Email]
		switch {
		case !ok:
			names[r.Email] = r.Name
			fresh = append(fresh, r.Email)
			isFresh[r.Email] = true
			changes[i] = created
			res.ContactsCreated++
		case r.Name != "" && r.Name != name:
			names[r.Email] = r.Name
			if !isFresh[r.Email] {
				renamed = append(renamed, r.Email)
			}
			changes[i] = updated
			res.ContactsUpdated++
		}
	}
	now := s.timestamp()
	insert := make([][]any, len(fresh))
	for i, email := range fresh {
		insert[i] = []any{email, names[email], now, now}
	}
	n, err := db.InsertValues(ctx, tx, `INSERT INTO contacts (email, name, created_at, updated_at)`, `ON CONFLICT (email) DO NOTHING`, insert)
	if err != nil {
		return nil, fmt.Errorf("insert people: %w", err)
	}
	if n != int64(len(insert)) {
		return nil, errConcurrentImport
	}
	slices.Sort(renamed)
	for _, email := range slices.Compact(renamed) {
		if _, err := db.Exec(ctx, tx, `UPDATE contacts SET name = ?, updated_at = ? WHERE email = ?`, names[email], now, email); err != nil {
			return nil, fmt.Errorf("rename %s: %w", email, err)
		}
	}
	return changes, nil
}

// importMemberships gives each row's person the row's role, under the
// main-contact rules (the first contact of a role becomes main; main=true
// promotes and demotes the previous main), and audits each change. The
// rules run in memory over what the licenses hold, row by row; then the
// demotions are written, then the new memberships and the promotions, so
// that no role has two mains at any point. It returns, for each row, what
// it did to the row's membership.
func (s *Store) importMemberships(ctx context.Context, tx *sqlx.Tx, cs *changeSet, rows []Row, res *ImportResult) ([]change, error) {
	type key struct {
		license, email string
		role           Role
	}
	type role struct {
		license string
		role    Role
	}
	type member struct {
		main, wasMain, stored bool
	}
	var ids []string
	for i, r := range rows {
		if i == 0 || rows[i-1].LicenseID != r.LicenseID {
			ids = append(ids, r.LicenseID)
		}
	}
	query, args, err := db.In(`SELECT license_id, email, role, is_main FROM memberships WHERE license_id IN (?)`, ids)
	if err != nil {
		return nil, err
	}
	var found []membershipRow
	if err := db.Select(ctx, tx, &found, query, args...); err != nil {
		return nil, fmt.Errorf("read memberships: %w", err)
	}
	members := make(map[key]*member, len(found)+len(rows))
	holders := make(map[role]int)
	mains := make(map[role]string)
	for _, m := range found {
		members[key{m.LicenseID, m.Email, m.Role}] = &member{main: m.Main, wasMain: m.Main, stored: true}
		holders[role{m.LicenseID, m.Role}]++
		if m.Main {
			mains[role{m.LicenseID, m.Role}] = m.Email
		}
	}
	changes := make([]change, len(rows))
	var added []key // in row order
	demote := func(rk role) string {
		previous := mains[rk]
		if previous != "" {
			members[key{rk.license, previous, rk.role}].main = false
		}
		return previous
	}
	for i, r := range rows {
		if r.Email == "" {
			continue
		}
		k, rk := key{r.LicenseID, r.Email, r.Role}, role{r.LicenseID, r.Role}
		m, ok := members[k]
		switch {
		case !ok:
			main, previous := holders[rk] == 0, ""
			if r.Main && !main {
				previous, main = demote(rk), true
			}
			members[k] = &member{main: main}
			added = append(added, k)
			holders[rk]++
			if main {
				mains[rk] = r.Email
			}
			cs.add(AuditEntry{LicenseID: r.LicenseID, Action: Added, Email: r.Email, Role: r.Role, Main: main, PreviousMain: previous})
			changes[i] = created
			res.MembershipsCreated++
		case r.Main && !m.main:
			previous := demote(rk)
			m.main = true
			mains[rk] = r.Email
			cs.add(AuditEntry{LicenseID: r.LicenseID, Action: Promoted, Email: r.Email, Role: r.Role, Main: true, PreviousMain: previous})
			changes[i] = updated
			res.MembershipsUpdated++
		}
	}
	var promoted []key
	for k, m := range members {
		switch {
		case m.stored && m.wasMain && !m.main:
			if _, err := db.Exec(ctx, tx, `UPDATE memberships SET is_main = FALSE WHERE license_id = ? AND role = ? AND email = ?`, k.license, k.role, k.email); err != nil {
				return nil, fmt.Errorf("demote %s on %s: %w", k.email, k.license, err)
			}
		case m.stored && !m.wasMain && m.main:
			promoted = append(promoted, k)
		}
	}
	now := s.timestamp()
	insert := make([][]any, len(added))
	for i, k := range added {
		insert[i] = []any{k.license, k.email, k.role, members[k].main, now}
	}
	if _, err := db.InsertValues(ctx, tx, `INSERT INTO memberships (license_id, email, role, is_main, created_at)`, "", insert); err != nil {
		return nil, fmt.Errorf("insert memberships: %w", err)
	}
	for _, k := range promoted {
		if _, err := db.Exec(ctx, tx, `UPDATE memberships SET is_main = TRUE WHERE license_id = ? AND role = ? AND email = ?`, k.license, k.role, k.email); err != nil {
			return nil, fmt.Errorf("promote %s on %s: %w", k.email, k.license, err)
		}
	}
	return changes, nil
}

// Export calls fn for every membership, and for every license without one,
// as rows that Import takes back unchanged: ordered by license, role, main
// contact first.
func (s *Store) Export(ctx context.Context, fn func(Row) error) error {
	rows, err := s.db.Read.QueryxContext(ctx, `
		SELECT l.id, l.product, l.name, COALESCE(m.email, ''), COALESCE(c.name, ''), COALESCE(m.role, ''), COALESCE(m.is_main, FALSE),
			COALESCE(p.name, '')
		FROM licenses l
		LEFT JOIN memberships m ON m.license_id = l.id
		LEFT JOIN contacts c ON c.email = m.email
		LEFT JOIN products p ON p.key = l.product
		ORDER BY l.id, m.role DESC, m.is_main DESC, m.created_at, m.email`)
	if err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.LicenseID, &r.Product, &r.LicenseName, &r.Email, &r.Name, &r.Role, &r.Main, &r.ProductName); err != nil {
			return fmt.Errorf("export contacts: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export contacts: %w", err)
	}
	return nil
}

// lineFailure reports a rule broken while applying a row as an error of its
// line. ReadCSV has caught what it can see in the file; what remains are
// rules that depend on the database. A database failure is not the line's
// fault and is returned as it is.
func lineFailure(line int, err error) error {
	if f, ok := fault.As(err); ok {
		return csvfile.Problem(line, "%v", f)
	}
	return err
}

func boolRank(main bool) int {
	if main {
		return 0
	}
	return 1
}

func boolCount(b bool) int {
	if b {
		return 1
	}
	return 0
}
