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
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	err := db.Select(ctx, l.db, &rows,
		`SELECT status, COUNT(*) AS n FROM deliveries WHERE status IN (?, ?) GROUP BY status`,
		DeliveryPending, DeliverySending)
	if err != nil {
		return nil, fmt.Errorf("count unfinished deliveries: %w", err)
	}
	counts := map[string]int{string(DeliveryPending): 0, string(DeliverySending): 0}
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	return counts, nil
}
