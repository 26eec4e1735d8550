package contacts

import (
	"cmp"
	"context"
	"fmt"
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
		current := ""
		for _, r := range sorted {
			rowChanged := false
			if r.LicenseID != current {
				current = r.LicenseID
				c, err := s.importLicense(ctx, tx, r)
				if err != nil {
					return lineFailure(r.Line, err)
				}
				if c == created {
					cs.created[r.LicenseID] = true
				}
				rowChanged = c != unchanged
				res.LicensesCreated += boolCount(c == created)
				res.LicensesUpdated += boolCount(c == updated)
			}
			if r.Email != "" {
				contact, membership, err := s.importMember(ctx, tx, cs, r)
				if err != nil {
					return lineFailure(r.Line, err)
				}
				rowChanged = rowChanged || contact != unchanged || membership != unchanged
				res.ContactsCreated += boolCount(contact == created)
				res.ContactsUpdated += boolCount(contact == updated)
				res.MembershipsCreated += boolCount(membership == created)
				res.MembershipsUpdated += boolCount(membership == updated)
			}
			if !rowChanged {
				res.Unchanged++
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import contacts: %w", err)
	}
	return res, nil
}

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

// importLicense creates or updates the license of r and locks it.
func (s *Store) importLicense(ctx context.Context, tx *sqlx.Tx, r Row) (change, error) {
	now := s.timestamp()
	res, err := db.Exec(ctx, tx, `
		INSERT INTO licenses (id, product, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, r.LicenseID, r.Product, r.LicenseName, now, now)
	if err != nil {
		return unchanged, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return created, nil
	}
	// The row lock is taken whether or not the license changes: its
	// memberships may.
	if err := s.lockLicense(ctx, tx, r.LicenseID); err != nil {
		return unchanged, err
	}
	res, err = db.Exec(ctx, tx, `UPDATE licenses SET product = ?, name = ? WHERE id = ? AND (product <> ? OR name <> ?)`,
		r.Product, r.LicenseName, r.LicenseID, r.Product, r.LicenseName)
	if err != nil {
		return unchanged, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return updated, nil
	}
	return unchanged, nil
}

// importMember makes sure r's person holds r's role, as main if r says so.
func (s *Store) importMember(ctx context.Context, tx *sqlx.Tx, cs *changeSet, r Row) (contact, membership change, err error) {
	if r.Email, err = s.storedEmail(ctx, tx, "email", r.Email); err != nil {
		return unchanged, unchanged, err
	}
	var existing []membershipRow
	err = db.Select(ctx, tx, &existing, `
		SELECT m.license_id, m.email, c.name, m.role, m.is_main
		FROM memberships m JOIN contacts c ON c.email = m.email
		WHERE m.license_id = ? AND m.email = ? AND m.role = ?`, r.LicenseID, r.Email, r.Role)
	if err != nil {
		return unchanged, unchanged, err
	}
	if len(existing) == 0 {
		contact, err = s.addMember(ctx, tx, cs, r.LicenseID, NewMember{Email: r.Email, Name: r.Name, Role: r.Role, Main: r.Main}, s.timestamp(), renamePeople)
		return contact, created, err
	}
	if contact, err = s.upsertContact(ctx, tx, r.Email, r.Name, s.timestamp(), renamePeople); err != nil {
		return unchanged, unchanged, err
	}
	if r.Main {
		promoted, err := s.promote(ctx, tx, cs, existing[0])
		if err != nil {
			return unchanged, unchanged, err
		}
		if promoted {
			membership = updated
		}
	}
	return contact, membership, nil
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
