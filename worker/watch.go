package worker

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/ledger"
)

// watch is the one goroutine of a send task that keeps the task's claims
// alive (every third of the lease) and looks every watchEvery whether the
// announcement is still sending, so that a pause or a cancel stops the
// messages not yet handed to the SMTP server.
type watch struct {
	held    sync.Map // delivery id → ledger.Claim, claimed and not yet settled
	halted  atomic.Bool
	done    chan struct{}
	stopped chan struct{}
}

// watch starts watching announcement id for a task; stop ends it.
func (h *Send) watch(ctx context.Context, id int64) *watch {
	w := &watch{done: make(chan struct{}), stopped: make(chan struct{})}
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer close(w.stopped)
		look := time.NewTicker(watchEvery)
		defer look.Stop()
		extend := time.NewTicker(h.cfg.Lease / 3)
		defer extend.Stop()
		for {
			select {
			case <-w.done:
				return
			case <-look.C:
				status, err := h.deps.Ledger.StatusOf(ctx, id)
				if err == nil && status != ledger.Sending {
					w.halted.Store(true)
				}
			case <-extend.C:
				var cs []ledger.Claim
				w.held.Range(func(_, v any) bool {
					cs = append(cs, v.(ledger.Claim))
					return true
				})
				if err := h.deps.Ledger.ExtendLeases(ctx, cs, h.cfg.Lease); err != nil {
					h.deps.Logger.Warn("could not extend claims", "announcement", id, "deliveries", len(cs), "err", err)
				}
			}
		}
	}()
	return w
}

// hold counts claims as the task's until each is settled.
func (w *watch) hold(claims map[int64]ledger.Claim) {
	for id, c := range claims {
		w.held.Store(id, c)
	}
}

// settled says claim c's outcome is written, or c given back.
func (w *watch) settled(c ledger.Claim) { w.held.Delete(c.Delivery) }

// isHalted says the announcement was seen paused, cancelled or done.
func (w *watch) isHalted() bool { return w.halted.Load() }

// stop ends the watch and waits for its goroutine.
func (w *watch) stop() {
	close(w.done)
	<-w.stopped
}
