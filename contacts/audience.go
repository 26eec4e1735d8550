package contacts

// ReleaseAudienceQuery selects, once per address, every technical contact of
// an active license of product: who hears of its releases. It returns the
// query and its arguments, for the ledger to insert deliveries from.
func ReleaseAudienceQuery(product string) (string, []any) {
	return `SELECT DISTINCT m.email FROM memberships m JOIN licenses l ON l.id = m.license_id
		WHERE l.product = ? AND l.status = ? AND m.role = ?`, []any{product, Active, Technical}
}
