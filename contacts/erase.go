package contacts

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/fault"
)

// ErasedPrefix starts the address that replaces an erased person's.
const ErasedPrefix = "erased:"

// ErasedAddress is what replaces an erased person's address in what herald
// keeps of them: "erased:" and the HMAC-SHA256 of the address under key
// (keys.Erasure), in hex. The same address always gives the same hash, so
// counts and uniqueness hold; without the key, which never leaves herald,
// no one can test a guessed address against it.
func ErasedAddress(key []byte, email string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(email))
	return ErasedPrefix + hex.EncodeToString(mac.Sum(nil))
}

// Erasure is what erasing a person did.
type Erasure struct {
	// Hash is the address that replaced theirs (ErasedAddress).
	Hash string
	// Memberships are the memberships removed.
	Memberships int
	// Deliveries are the past deliveries now to Hash.
	Deliveries int64
}

// erasedText lists the text columns that may hold a person's address,
// table by table, in the rows that outlive them. The address is replaced inside every one of them,
// since replies and errors quote it ("550 <ann@acme.test>: no such user").
var erasedText = []struct {
	table   string
	columns []string
}{
	{"deliveries", []string{"email", "last_error", "reason"}},
	{"delivery_events", []string{"email", "diagnostic"}},
	{"audit_log", []string{"email", "previous_main", "actor"}},
	{"announcements", []string{"params", "audience", "subject", "dedupe_key"}},
}

// Erase removes a person at their request: their memberships, contact row,
// suppressions and portal sessions go, and their address is replaced by
// ErasedAddress(key, ...) wherever else herald keeps it (past deliveries,
// the audit log, the notices about them), so that an announcement's counts
// stay right and the address cannot be read back. A person who is the main contact of a
// role, or the last contact of one, is refused with a conflict naming the
// licenses, and nothing changes: a license must not lose its contacts to
// an erasure; staff fix the license first. The audit log records who erased
// (by), under the hash.
func (s *Store) Erase(ctx context.Context, by Actor, email string, key []byte) (Erasure, error) {
	if err := by.check(); err != nil {
		return Erasure{}, err
	}
	if len(key) == 0 {
		return Erasure{}, fmt.Errorf("erase: no key to hash addresses with")
	}
	email, err := s.storedEmail(ctx, s.db, "email", email)
	if err != nil {
		return Erasure{}, err
	}
	var out Erasure
	err = s.db.InTx(ctx, func(tx *sqlx.Tx) error {
		out = Erasure{Hash: ErasedAddress(key, email)}
		// Someone removed from every license earlier is no contact any
		// more, but their past deliveries still name them: they can be
		// erased as long as herald keeps any trace of them.
		if _, err := s.getContact(ctx, tx, email); errors.Is(err, fault.ErrNotFound) {
			traced, err := s.traced(ctx, tx, email)
			if err != nil {
				return err
			}
			if !traced {
				return fault.NotFound("herald keeps nothing of %s", email)
			}
		} else if err != nil {
			return err
		}
		var ms []membershipRow
		if err := db.Select(ctx, tx, &ms, `SELECT license_id, email, role, is_main FROM memberships WHERE email = ? ORDER BY license_id, role`, email); err != nil {
			return err
		}
		var held []string
		for _, m := range ms {
			if err := s.lockLicense(ctx, tx, m.LicenseID); err != nil {
				return err
			}
			n, err := s.holders(ctx, tx, m.LicenseID, m.Role)
			if err != nil {
				return err
			}
			switch {
			case m.Main:
				held = append(held, fmt.Sprintf("the main %s contact of %s", m.Role, m.LicenseID))
			case n == 1:
				held = append(held, fmt.Sprintf("the last %s contact of %s", m.Role, m.LicenseID))
			}
		}
		if len(held) > 0 {
			return fault.Conflict("%s is %s; give those roles to someone else first", email, strings.Join(held, ", "))
		}
		now := s.timestamp()
		for _, m := range ms {
			if _, err := db.Exec(ctx, tx, `DELETE FROM memberships WHERE license_id = ? AND role = ? AND email = ?`, m.LicenseID, m.Role, m.Email); err != nil {
				return err
			}
			// The license's log says a contact left, under the hash; no
			// one is told, as a notice would carry the address on.
			if _, err := WriteAudit(ctx, tx, AuditEntry{LicenseID: m.LicenseID, Action: Removed, Email: out.Hash, Role: m.Role, By: by, At: now}); err != nil {
				return err
			}
		}
		out.Memberships = len(ms)
		// Their suppressions go with them (as the foreign key would have
		// them go): they are about a mailbox herald no longer sends to,
		// and their replies quote the address.
		if _, err := db.Exec(ctx, tx, `DELETE FROM suppressions WHERE email = ?`, email); err != nil {
			return err
		}
		if _, err := db.Exec(ctx, tx, `DELETE FROM contacts WHERE email = ?`, email); err != nil {
			return err
		}
		for _, t := range []string{`DELETE FROM signin_links WHERE email = ?`, `DELETE FROM web_sessions WHERE subject = ?`} {
			if _, err := db.Exec(ctx, tx, t, email); err != nil {
				return err
			}
		}
		// Every form the address may be kept in (as contacts are looked
		// up), the stored one first.
		forms, err := LookupEmail("email", email)
		if err != nil {
			return err
		}
		forms = append([]string{email}, forms...)
		for _, t := range erasedText {
			for _, col := range t.columns {
				for _, form := range forms {
					res, err := db.Exec(ctx, tx, `UPDATE `+t.table+` SET `+col+` = REPLACE(`+col+`, ?, ?) WHERE `+col+` LIKE ? ESCAPE '\'`,
						form, out.Hash, "%"+likeEscape(form)+"%")
					if err != nil {
						return fmt.Errorf("replace the address in %s.%s: %w", t.table, col, err)
					}
					if t.table == "deliveries" && col == "email" {
						n, _ := res.RowsAffected()
						out.Deliveries += n
					}
				}
			}
		}
		// Mail kept by the inbound server is kept whole, as it came: a
		// message that names the address goes.
		contains := `position(convert_to(?, 'UTF8') in raw) > 0`
		if s.db.Dialect == db.SQLite {
			contains = `instr(raw, CAST(? AS BLOB)) > 0`
		}
		for _, form := range forms {
			if _, err := db.Exec(ctx, tx, `DELETE FROM inbound_kept WHERE `+contains, form); err != nil {
				return fmt.Errorf("delete the kept mail that names the address: %w", err)
			}
		}
		_, err = WriteAudit(ctx, tx, AuditEntry{Action: Erased, Email: out.Hash, By: by, At: now})
		return err
	})
	if err != nil {
		if _, ok := fault.As(err); ok {
			return Erasure{}, err
		}
		return Erasure{}, fmt.Errorf("erase %s: %w", email, err)
	}
	return out, nil
}

// traced says whether a delivery, a suppression or an audit entry names
// email, in any form it may be stored in.
func (s *Store) traced(ctx context.Context, tx *sqlx.Tx, email string) (bool, error) {
	forms, err := LookupEmail("email", email)
	if err != nil {
		return false, err
	}
	query, args, err := db.In(`SELECT
		EXISTS (SELECT 1 FROM deliveries WHERE email IN (?)) OR
		EXISTS (SELECT 1 FROM suppressions WHERE email IN (?)) OR
		EXISTS (SELECT 1 FROM audit_log WHERE email IN (?))`, forms, forms, forms)
	if err != nil {
		return false, err
	}
	var found bool
	if err := db.Get(ctx, tx, &found, query, args...); err != nil {
		return false, fmt.Errorf("look for traces of %s: %w", email, err)
	}
	return found, nil
}

// likeEscape escapes LIKE's wildcards, which an address may hold ('_').
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
