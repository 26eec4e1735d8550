package ledger

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/internal/db"
)

// Unfinished counts the deliveries still to be sent, by status (pending
// and sending, each present even at zero): the backlog an operator
// watches.
func (l *Ledger) Unfinished(ctx context.Context) (map[string]int, error) {
	var n struct {
		Pending int `db:"pending"`
		Sending int `db:"sending"`
	}
	err := db.Get(ctx, l.db, &n, `SELECT
		(SELECT COUNT(*) FROM deliveries WHERE `+isPending+`) AS pending,
		(SELECT COUNT(*) FROM deliveries WHERE `+isSending+`) AS sending`)
	if err != nil {
		return nil, fmt.Errorf("count unfinished deliveries: %w", err)
	}
	counts := map[string]int{string(DeliveryPending): n.Pending, string(DeliverySending): n.Sending}
	return counts, nil
}
