package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/billing"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/queue"
)

// Fanout resolves an announcement's audience into deliveries, set-based in
// SQL, then enqueues one send task per chunk.
type Fanout struct {
	Ledger    *ledger.Ledger
	Queue     *queue.Queue
	ChunkSize int
}

// ProcessTask handles queue.TypeFanout.
func (h *Fanout) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := queue.DecodeFanout(t)
	if err != nil {
		return err
	}
	a, err := h.Ledger.Lookup(ctx, p.Announcement)
	if errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	aud, err := audienceOf(a)
	if err != nil {
		return fmt.Errorf("announcement %d: %w: %w", a.ID, err, asynq.SkipRetry)
	}
	chunks, err := h.Ledger.Resolve(ctx, a.ID, aud, h.ChunkSize)
	if err != nil {
		return err
	}
	for _, c := range chunks {
		if err := h.Queue.Enqueue(ctx, queue.NewSendTask(a.ID, c, time.Time{})); err != nil {
			return err
		}
	}
	return nil
}

// audienceOf returns the query for an announcement's recipients.
func audienceOf(a ledger.Announcement) (ledger.Audience, error) {
	switch a.Kind {
	case ledger.KindRelease:
		var aud ledger.ReleaseAudience
		if err := json.Unmarshal(a.Audience, &aud); err != nil {
			return ledger.Audience{}, fmt.Errorf("release audience: %w", err)
		}
		query, args := contacts.ReleaseAudienceQuery(aud.Product)
		return ledger.Audience{Query: query, Args: args, HonourOptOut: true}, nil
	case ledger.KindBroadcast:
		var aud ledger.BroadcastAudience
		if err := json.Unmarshal(a.Audience, &aud); err != nil {
			return ledger.Audience{}, fmt.Errorf("broadcast audience: %w", err)
		}
		query, args := aud.Query()
		return ledger.Audience{Query: query, Args: args, HonourOptOut: true}, nil
	case ledger.KindInvoiceReminder:
		var aud billing.ReminderAudience
		if err := json.Unmarshal(a.Audience, &aud); err != nil {
			return ledger.Audience{}, fmt.Errorf("reminder audience: %w", err)
		}
		query, args := contacts.BillingAudienceQuery(aud.LicenseID, aud.MainOnly)
		// Invoice reminders are transactional: opting out of release
		// notices does not silence them.
		return ledger.Audience{Query: query, Args: args, HonourOptOut: false}, nil
	}
	return ledger.Audience{}, fmt.Errorf("no audience for kind %q", a.Kind)
}
