package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/queue"
)

// batchSize is how many due deliveries Send reads and claims at a time,
// with one statement each. Their messages are handed to the SMTP
// connections as they are rendered, and their outcomes written in group
// commits (ledger.Outcomes); the claims are kept alive, and the
// announcement watched for a pause or a cancel, by one goroutine per
// task.
const batchSize = 100

// watchEvery is how often a send task looks whether its announcement is
// still sending: a cancel or a pause stops the messages not yet handed to
// the SMTP server within about this long.
const watchEvery = 50 * time.Millisecond

// Send sends the pending deliveries of one chunk of an announcement.
type Send struct {
	cfg    Config
	deps   Deps
	domain string
	// throttles counts the throttling replies in a row, for the wait
	// before a throttled message is tried again.
	throttles atomic.Int64
	// outcomes writes what became of sent messages in group commits.
	outcomes *ledger.Outcomes
	// unrecorded holds a token for each message handed to the SMTP server
	// whose outcome is not yet written: what a crash may send twice.
	unrecorded chan struct{}
}

// NewSend returns the send handler.
func NewSend(cfg Config, deps Deps) (*Send, error) {
	domain, err := mailer.Domain(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("HERALD_FROM: %w", err)
	}
	if deps.Refs == nil {
		return nil, errors.New("worker: no references to sign messages with (Deps.Refs)")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if cfg.MaxThrottles == 0 {
		cfg.MaxThrottles = 50
	}
	if cfg.Unrecorded == 0 {
		cfg.Unrecorded = 64
	}
	return &Send{cfg: cfg, deps: deps, domain: domain,
		outcomes:   deps.Ledger.NewOutcomes(cfg.Unrecorded),
		unrecorded: make(chan struct{}, cfg.Unrecorded)}, nil
}

// ProcessTask handles queue.TypeSend.
func (h *Send) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := queue.DecodeSend(t)
	if err != nil {
		return err
	}
	a, err := h.deps.Ledger.Lookup(ctx, p.Announcement)
	if errors.Is(err, fault.ErrNotFound) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if a.Status != ledger.Sending {
		return nil // cancelled or done: its pending deliveries are gone
	}
	open, err := h.deps.Kinds.Open(a)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	log := h.deps.Logger.With("announcement", a.ID, "chunk", p.Chunk)
	w := h.watch(ctx, a.ID)
	defer w.stop()

	for {
		if err := ctx.Err(); err != nil {
			return err // shutting down: the queue runs the task again
		}
		if w.isHalted() {
			return nil // paused or cancelled: its work is enqueued again on resume
		}
		due, err := h.deps.Ledger.Due(ctx, a.ID, p.Chunk, batchSize)
		if err != nil {
			return err
		}
		if len(due) == 0 {
			break
		}
		emails := make([]string, len(due))
		ids := make([]int64, len(due))
		for i, d := range due {
			emails[i], ids[i] = d.Email, d.ID
		}
		batch, err := open.Batch(ctx, emails)
		if err != nil {
			return err
		}
		claims, err := h.deps.Ledger.ClaimAll(ctx, ids, h.cfg.Lease)
		if err != nil {
			return err
		}
		if len(claims) == 0 {
			continue // taken by another worker, or the announcement stopped
		}
		w.hold(claims)
		err = h.sendBatch(ctx, log, w, a, batch, due, claims)
		if errors.Is(err, errRelayFails) {
			return nil // the announcement is paused until the relay works
		}
		if err != nil {
			return err
		}
	}

	// Deliveries waiting for a retry get a task of their own at their time;
	// without any, the announcement may be finished.
	next, waiting, err := h.deps.Ledger.NextAttempt(ctx, a.ID, p.Chunk)
	if err != nil {
		return err
	}
	if waiting {
		task := queue.NewSendTask(a.ID, p.Chunk, next)
		if h.deps.Kinds.Urgent(a.Kind) {
			task = task.Urgent()
		}
		return h.deps.Queue.Enqueue(ctx, task)
	}
	if done, err := h.deps.Ledger.FinishIfDone(ctx, a.ID); err != nil {
		return err
	} else if done {
		log.Info("announcement done")
	}
	return nil
}

// sendBatch composes, renders and hands to the SMTP connections the
// messages of a claimed batch, in order, and waits until every outcome is
// written. It stops handing messages over when the task stops, the
// announcement is paused or cancelled, or the relay fails, and gives the
// rest back untried. It returns an error when the ledger cannot be
// written, or errRelayFails.
func (h *Send) sendBatch(ctx context.Context, log *slog.Logger, w *watch, a ledger.Announcement, batch kinds.Batch, due []ledger.Delivery, claims map[int64]ledger.Claim) error {
	// Outcomes must be written even if the task is being cancelled: the
	// messages may have left.
	taskCtx := ctx
	ctx = context.WithoutCancel(ctx)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		rest     []ledger.Claim
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil || errors.Is(firstErr, errRelayFails) && !errors.Is(err, errRelayFails) {
			firstErr = err
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	for i, d := range due {
		claim, ok := claims[d.ID]
		if !ok {
			continue // not claimed: sent, cancelled or taken by another worker meanwhile
		}
		stop := taskCtx.Err() != nil || w.isHalted() || failed()
		if !stop {
			if ok, reason := h.deps.Breaker.Allows(); !ok {
				if err := h.pauseForRelay(ctx, log, a.ID, reason); err != nil {
					fail(err)
				}
				fail(errRelayFails)
				stop = true
			}
		}
		if stop {
			for _, d := range due[i:] {
				if c, ok := claims[d.ID]; ok {
					rest = append(rest, c)
				}
			}
			break
		}
		m, handed, err := h.prepare(taskCtx, ctx, log, w, a, batch, d, claim)
		if err != nil {
			fail(err)
		}
		if !handed {
			w.settled(claim)
			continue
		}
		wg.Go(func() {
			defer func() { <-h.unrecorded }()
			defer w.settled(claim)
			start := time.Now()
			err := h.deps.Sender.Send(ctx, m)
			h.deps.Metrics.Send(time.Since(start).Seconds())
			if err := h.record(ctx, log, a, d, claim, m.MessageID, err); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	if len(rest) > 0 {
		err := persist(ctx, h.cfg.Lease/2, func() error { return h.deps.Ledger.GiveBack(ctx, rest) })
		for _, c := range rest {
			w.settled(c)
		}
		if err != nil {
			return err
		}
	}
	if firstErr == nil {
		return taskCtx.Err()
	}
	return firstErr
}

// prepare composes and renders the message of claimed delivery d and, once
// it may go, takes a token of h.unrecorded for it: handed says the caller
// sends it and gives the token back. Otherwise its outcome is written
// (skipped, failed to render) or it is given back untried; an error says
// the ledger could not be written.
func (h *Send) prepare(taskCtx, ctx context.Context, log *slog.Logger, w *watch, a ledger.Announcement, batch kinds.Batch, d ledger.Delivery, claim ledger.Claim) (m mailer.Message, handed bool, err error) {
	led := h.deps.Ledger
	kind := string(a.Kind)
	skip, err := batch.Check(ctx)
	if err != nil {
		return m, false, err // the claim runs out and the delivery is tried again
	}
	var draft kinds.Draft
	if skip == "" {
		draft, skip = batch.Compose(d.Email)
	}
	if skip != "" {
		h.deps.Metrics.Delivery(kind, "skipped")
		return m, false, led.MarkSkipped(ctx, claim, skip)
	}
	msg, err := h.deps.Renderer.Render(draft.Template, draft.Locale, draft.Data)
	if err != nil {
		log.Error("render failed", "delivery", d.ID, "err", err)
		h.deps.Metrics.Delivery(kind, "failed")
		return m, false, led.MarkFailed(ctx, claim, "render: "+err.Error())
	}
	if ok, err := h.mayGo(taskCtx, ctx, log, a, d, claim); !ok {
		return m, false, err
	}
	select {
	case h.unrecorded <- struct{}{}:
	case <-taskCtx.Done():
		return m, false, cmp.Or(led.GiveBack(ctx, []ledger.Claim{claim}), taskCtx.Err())
	}
	if w.isHalted() {
		// Paused or cancelled while the message waited for its turn.
		<-h.unrecorded
		return m, false, led.GiveBack(ctx, []ledger.Claim{claim})
	}
	return mailer.Message{
		From: h.cfg.From, To: d.Email, ToName: draft.ToName,
		Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML,
		MessageID:  h.deps.Refs.MessageID(d.ID, a.ID, h.domain),
		ReturnPath: h.deps.Refs.ReturnPath(d.ID),
		Date:       h.deps.Now(), ReplyTo: draft.ReplyTo,
		Headers: slices.Concat(draft.Headers, h.deps.Refs.ProviderHeaders(d.ID)),
	}, true, nil
}

// mayGo waits for the shared rate, then says whether the claimed message
// may still go. It may not when the task stops meanwhile (the error is
// taskCtx's), when staff paused or cancelled its announcement, or when the
// relay failed (errRelayFails); it is then given back untried. The lease
// kept alive meanwhile ends with the claim: extending it takes a delivery
// still being sent.
func (h *Send) mayGo(taskCtx, ctx context.Context, log *slog.Logger, a ledger.Announcement, d ledger.Delivery, claim ledger.Claim) (bool, error) {
	led := h.deps.Ledger
	giveBack := func() error { return led.Release(ctx, claim, d.LastError, h.deps.Now()) }
	waited, err := h.deps.Relay.Wait(taskCtx)
	if err != nil {
		return false, cmp.Or(giveBack(), err)
	}
	if waited {
		still, err := led.StillSending(ctx, claim, h.cfg.Lease)
		if err != nil {
			return false, err // the claim runs out and the delivery is tried again
		}
		if !still {
			return false, giveBack()
		}
	}
	if ok, reason := h.deps.Breaker.Allows(); !ok {
		if err := giveBack(); err != nil {
			return false, err
		}
		if err := h.pauseForRelay(ctx, log, a.ID, reason); err != nil {
			return false, err
		}
		return false, errRelayFails
	}
	return true, nil
}

// errRelayFails stops a send task whose announcement the relay's failure
// paused.
var errRelayFails = errors.New("the relay fails")

// record writes what became of a message handed to the SMTP server: sent;
// failed, and the address suppressed, when its mailbox does not exist;
// failed for good; pending again for a retry later; or, when the relay
// throttled it or failed as a whole, pending again untried (and then the
// announcement paused: errRelayFails).
func (h *Send) record(ctx context.Context, log *slog.Logger, a ledger.Announcement, d ledger.Delivery, claim ledger.Claim, messageID string, sendErr error) error {
	led := h.deps.Ledger
	kind := string(a.Kind)
	attempt := claim.Attempt
	if sendErr == nil {
		h.deps.Metrics.Delivery(kind, "sent")
		h.deps.Breaker.Sent(ctx)
		h.deps.Relay.Passed(ctx)
		h.throttles.Store(0)
		// The message is out: recording it must outlast a database blip,
		// or the lease runs out and it is sent again.
		return persist(ctx, h.cfg.Lease/2, func() error { return h.outcomes.Sent(ctx, claim, messageID) })
	}
	e := mailer.Classify(sendErr)
	reason := e.Error()
	switch {
	case e.Relay:
		h.deps.Metrics.Delivery(kind, "paused")
		if err := led.Release(ctx, claim, reason, h.deps.Now()); err != nil {
			return err
		}
		h.deps.Breaker.Fail(ctx, e)
		if err := h.pauseForRelay(ctx, log, a.ID, reason); err != nil {
			return err
		}
		return errRelayFails
	case e.Throttled:
		h.deps.Metrics.Throttled()
		h.deps.Relay.Throttled(ctx)
		if claim.Throttles+1 >= h.cfg.MaxThrottles {
			log.Warn("send failed; throttled too often", "delivery", d.ID, "throttles", claim.Throttles+1, "err", reason)
			h.deps.Metrics.Delivery(kind, "failed")
			return led.MarkFailed(ctx, claim, fmt.Sprintf("gave up after %d throttling replies: %s", claim.Throttles+1, reason))
		}
		h.deps.Metrics.Delivery(kind, "throttled")
		next := h.deps.Now().Add(h.throttledWait())
		log.Debug("the relay throttles; the rate is lowered and the message tried again soon", "delivery", d.ID, "next", next, "reply", reason)
		return led.Throttled(ctx, claim, reason, next)
	case e.Mailbox:
		h.deps.Breaker.Works()
		log.Warn("the mailbox does not exist; suppressing the address", "delivery", d.ID, "code", e.Code, "enhanced", e.Enhanced)
		log.Debug("mailbox refused", "delivery", d.ID, "email", d.Email, "reply", reason)
		if err := h.deps.Contacts.Suppress(ctx, d.Email, contacts.Suppression{Reply: reason, Code: e.Code, Enhanced: e.Enhanced, DeliveryID: d.ID}); err != nil {
			return err
		}
		h.deps.Metrics.Delivery(kind, "failed")
		return led.MarkFailed(ctx, claim, reason)
	case !e.Temporary:
		log.Warn("send failed", "delivery", d.ID, "code", e.Code, "enhanced", e.Enhanced, "err", reason)
		h.deps.Metrics.Delivery(kind, "failed")
		if err := led.MarkFailed(ctx, claim, reason); err != nil {
			return err
		}
		takeBack, v := h.deps.Breaker.Refused(ctx, claim, e)
		if v == Failed {
			return nil
		}
		by := ledger.PausedByRelay
		if v == PausedForStaff {
			by = ledger.PausedByHerald
		}
		// The failures are no longer in the breaker's streak: taking them
		// back must outlast a database blip.
		var paused []int64
		err := persist(ctx, h.cfg.Lease, func() (err error) {
			paused, err = led.Unfail(ctx, takeBack, h.deps.Breaker.reasonFor(e), by)
			return err
		})
		if err != nil {
			log.Error("could not take back failures that were the relay's", "deliveries", len(takeBack), "err", err)
			return err
		}
		log.Info("failures taken back: the relay refuses every message", "deliveries", len(takeBack), "announcements paused", len(paused), "paused by", by)
		return errRelayFails
	case attempt >= h.cfg.MaxAttempts:
		h.deps.Breaker.Works()
		log.Warn("send failed; no attempts left", "delivery", d.ID, "attempts", attempt, "err", reason)
		h.deps.Metrics.Delivery(kind, "failed")
		return led.MarkFailed(ctx, claim, fmt.Sprintf("gave up after %d attempts: %s", attempt, reason))
	default:
		h.deps.Breaker.Works()
		next := h.deps.Now().Add(backoff(h.cfg.RetryBase, attempt))
		log.Info("send failed; will retry", "delivery", d.ID, "attempt", attempt, "next", next, "err", reason)
		h.deps.Metrics.Delivery(kind, "retry")
		return led.MarkRetry(ctx, claim, reason, next)
	}
}

// throttledWait is how long a throttled message waits before it is tried
// again: a second when the shared rate paces the sends, else longer with
// each throttling reply in a row, up to half a minute.
func (h *Send) throttledWait() time.Duration {
	n := h.throttles.Add(1)
	if h.deps.Relay.Limited() {
		return time.Second
	}
	return min(time.Second<<min(n-1, 5), 30*time.Second)
}

// pauseForRelay pauses an announcement while the relay fails.
func (h *Send) pauseForRelay(ctx context.Context, log *slog.Logger, id int64, reason string) error {
	paused, err := h.deps.Ledger.PauseForRelay(ctx, id, reason)
	if err != nil {
		return err
	}
	if paused {
		log.Warn("announcement paused until the relay works", "reason", reason)
	}
	return nil
}

// persist runs write until it succeeds or within is over, waiting a little
// longer after each failure.
func persist(ctx context.Context, within time.Duration, write func() error) error {
	deadline := time.Now().Add(within)
	wait := 100 * time.Millisecond
	for {
		err := write()
		if err == nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// backoff is the delay after the attempt-th failure: base, 2·base, 4·base…
// up to six hours, spread by ±20% so that retries of many deliveries that
// failed together do not arrive together.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt-1, 20)
	if d <= 0 || d > 6*time.Hour {
		d = 6 * time.Hour
	}
	jitter := 0.8 + 0.4*rand.Float64() //nolint:gosec // spreading retries needs no secrecy
	return time.Duration(float64(d) * jitter)
}
