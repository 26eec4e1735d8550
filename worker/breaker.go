package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
)

// Breaker keeps a worker process from sending while the relay fails as a
// whole: it refuses herald's connection, TLS mode, credentials or sender,
// or it answers every message with the same refusal, whoever it is for.
//
// Open, the workers take no delivery and pause the announcements they
// find; meanwhile the breaker probes the relay, waiting longer each time
// up to a minute. Once the relay takes herald's connection and sender
// again, it resumes what the relay paused. After a refusal of every
// message it is half-open: messages go, and the first refused as before
// opens it again at once (the ones refused meanwhile are taken back too);
// the first sent closes it, and so does a minute with neither.
// When the same refusal keeps coming back for longer than GiveUp, with no
// message sent in between, herald stops resuming by itself: the refusal is
// more likely the messages' (their content, their sender) than a passing
// state of the relay, and staff resume the announcements once it is fixed.
//
// Closed, it checks the relay once as the process starts, and every
// minute resumes the announcements a relay's failure left paused (this
// process's, or another's that stopped) once a probe passes, and tells the
// other processes the relay works when it sent something.
type Breaker struct {
	sender  mailer.Sender
	relay   *relay.Relay
	ledger  *ledger.Ledger
	queue   *queue.Queue
	logger  *slog.Logger
	metrics *metrics.Metrics
	cfg     BreakerConfig

	mu     sync.Mutex
	state  breakerState
	reason string // why it is open, for the announcements it pauses
	// streak holds the claims of the last attempts that all got the same
	// permanent refusal, streakKey, which is not about any one mailbox.
	streak    []ledger.Claim
	streakKey string
	// tripKey is the refusal that opened the breaker, if one did.
	tripKey string
	// refusing holds, for each refusal that opened the breaker since a
	// message was last sent, when it first did.
	refusing   map[string]time.Time
	wait       time.Duration // before the next probe, while open
	halfOpenAt time.Time
	// gen counts the breaker's openings and closings: what is published
	// (the metric, the shared state) must be the last one's.
	gen       uint64
	publishMu sync.Mutex
	// sent says a message was sent since the watch last looked.
	sent atomic.Bool

	kick   chan struct{} // the state changed: the watch recomputes its wait
	cancel context.CancelFunc
	done   chan struct{}
}

type breakerState int

const (
	closed breakerState = iota
	open
	halfOpen
)

// BreakerConfig tunes the breaker.
type BreakerConfig struct {
	// From is the sender probes give the relay (HERALD_FROM).
	From string
	// Pattern is how many attempts in a row must get the same permanent
	// refusal before it counts as the relay's (default 20).
	Pattern int
	// FirstProbe is the wait before the first probe (default 1s); each
	// failed probe doubles it, up to MaxProbe (default 1 minute), which is
	// also how often a closed breaker looks for pauses to resume.
	FirstProbe, MaxProbe time.Duration
	// GiveUp is how long the same refusal of every message may keep
	// coming back before herald leaves its announcements to staff
	// (default 15 minutes).
	GiveUp time.Duration
	// Now is the clock GiveUp and half-open are measured by (default
	// time.Now); the waits between probes are real.
	Now func() time.Time
}

// Verdict is what becomes of deliveries a permanent refusal failed.
type Verdict int

const (
	// Failed: the refusal stands, the delivery stays failed.
	Failed Verdict = iota
	// PausedForRelay: the refusal was the relay's; the failures are taken
	// back and their announcements paused until the relay works.
	PausedForRelay
	// PausedForStaff: the same, but the announcements stay paused until
	// staff resume them.
	PausedForStaff
)

// NewBreaker returns a closed breaker; Start starts watching the relay.
func NewBreaker(cfg BreakerConfig, sender mailer.Sender, r *relay.Relay, led *ledger.Ledger, q *queue.Queue, logger *slog.Logger, m *metrics.Metrics) *Breaker {
	if cfg.Pattern == 0 {
		cfg.Pattern = 20
	}
	if cfg.FirstProbe == 0 {
		cfg.FirstProbe = time.Second
	}
	if cfg.MaxProbe == 0 {
		cfg.MaxProbe = time.Minute
	}
	if cfg.GiveUp == 0 {
		cfg.GiveUp = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m.RelayUp(true)
	return &Breaker{sender: sender, relay: r, ledger: led, queue: q, logger: logger, metrics: m, cfg: cfg,
		refusing: map[string]time.Time{}, kick: make(chan struct{}, 1)}
}

// Start checks the relay at once, in the background, and then watches it
// until Stop.
func (b *Breaker) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel, b.done = cancel, make(chan struct{})
	go b.watch(ctx)
}

// Stop stops watching the relay and waits for a probe in flight.
func (b *Breaker) Stop() {
	if b.cancel != nil {
		b.cancel()
		<-b.done
	}
}

// Allows says whether deliveries may be taken now, and if not, why.
func (b *Breaker) Allows() (bool, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state != open, b.reason
}

// Sent says the relay took a message: half-open, that closes the breaker.
func (b *Breaker) Sent(ctx context.Context) {
	b.sent.Store(true)
	b.mu.Lock()
	clear(b.refusing)
	b.streak, b.streakKey = nil, ""
	if b.state != halfOpen {
		b.mu.Unlock()
		return
	}
	gen := b.close()
	b.mu.Unlock()
	b.logger.Info("the relay takes messages again")
	b.closed(ctx, gen)
}

// Works says the relay answered as a working relay does, for a message it
// did not take: it refused it for its own reasons (a mailbox that does not
// exist, a temporary failure). That ends a streak of refusals, but says
// nothing of the refusal that opened the breaker.
func (b *Breaker) Works() {
	b.mu.Lock()
	b.streak, b.streakKey = nil, ""
	b.mu.Unlock()
}

// Fail opens the breaker: the relay refused herald's connection, TLS,
// credentials or sender (e), which no message can get past.
func (b *Breaker) Fail(ctx context.Context, e *mailer.Error) {
	reason := fmt.Sprintf("the relay fails: %v", e)
	b.mu.Lock()
	if b.state == open {
		b.mu.Unlock()
		return
	}
	gen := b.open(reason, "")
	b.mu.Unlock()
	b.opened(ctx, gen, reason, e.Advice)
}

// Refused counts a permanent refusal of the message of claim c that is not
// about its mailbox. When the last Pattern attempts all got the same one
// (the same reply code and enhanced code, whatever the text), it is the
// relay's: Refused returns the claims of the pattern, whose failures must
// be taken back, and whether their announcements wait for the relay or
// for staff. Open or half-open, the refusal that opened the breaker is
// taken back at once; half-open, it opens the breaker again.
func (b *Breaker) Refused(ctx context.Context, c ledger.Claim, e *mailer.Error) ([]ledger.Claim, Verdict) {
	if e.Code == 0 {
		return nil, Failed // no reply: herald's own failure (the message could not be built)
	}
	key := fmt.Sprintf("%d %s", e.Code, e.Enhanced)
	b.mu.Lock()
	if b.state != closed && key == b.tripKey {
		if b.state == open {
			// In flight when the pattern opened the breaker.
			b.mu.Unlock()
			return []ledger.Claim{c}, PausedForRelay
		}
		return b.trip(ctx, []ledger.Claim{c}, e, key)
	}
	if key != b.streakKey {
		b.streak, b.streakKey = nil, key
	}
	b.streak = append(b.streak, c)
	if len(b.streak) < b.cfg.Pattern {
		b.mu.Unlock()
		return nil, Failed
	}
	pattern := b.streak
	b.streak, b.streakKey = nil, ""
	return b.trip(ctx, pattern, e, key)
}

// trip opens the breaker for the refusal key, or gives up on the relay
// recovering from it. It is called with b.mu held and releases it.
func (b *Breaker) trip(ctx context.Context, pattern []ledger.Claim, e *mailer.Error, key string) ([]ledger.Claim, Verdict) {
	reason := b.reasonFor(e)
	now := b.cfg.Now()
	since, seen := b.refusing[key]
	if !seen {
		b.refusing[key] = now
	}
	if seen && now.Sub(since) >= b.cfg.GiveUp {
		wasOpen := b.state != closed
		gen := b.gen
		if wasOpen {
			gen = b.close()
		}
		b.mu.Unlock()
		b.logger.Error("the relay refuses every message the same way, each time it seems to work again; "+
			"the announcements stay paused until staff resume them", "since", since, "reply", e.Error(), "fix", b.adviceFor(e))
		if wasOpen {
			b.closed(ctx, gen)
		}
		return pattern, PausedForStaff
	}
	gen := b.open(reason, key)
	b.mu.Unlock()
	b.opened(ctx, gen, reason, b.adviceFor(e))
	return pattern, PausedForRelay
}

// reasonFor is why a refusal of every message paused an announcement.
func (b *Breaker) reasonFor(e *mailer.Error) string {
	return fmt.Sprintf("the relay refuses every message with %v", e)
}

func (b *Breaker) adviceFor(e *mailer.Error) string {
	if e.Advice != "" {
		return e.Advice
	}
	return "check the relay's policy for HERALD_FROM and the messages: the sending domain verified, herald allowed to relay, " +
		"the account's sending enabled, the content accepted"
}

// open opens the breaker and returns its generation; b.mu is held.
func (b *Breaker) open(reason, tripKey string) uint64 {
	b.state, b.reason, b.tripKey = open, reason, tripKey
	if b.wait == 0 {
		b.wait = b.cfg.FirstProbe
	}
	b.gen++
	return b.gen
}

// opened tells that the breaker opened: once per opening, as an ERROR, in
// the metric and the shared state; and wakes the watch to probe.
func (b *Breaker) opened(ctx context.Context, gen uint64, reason, advice string) {
	b.logger.Error("sending paused: "+reason, "fix", advice)
	b.publish(ctx, gen, false, relay.Status{State: relay.Failing, Error: reason, Advice: advice})
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// close closes the breaker and returns its generation; b.mu is held.
func (b *Breaker) close() uint64 {
	b.state, b.reason, b.tripKey, b.wait = closed, "", "", 0
	b.gen++
	return b.gen
}

// closed tells that the breaker closed.
func (b *Breaker) closed(ctx context.Context, gen uint64) {
	b.publish(ctx, gen, true, relay.Status{State: relay.Working})
}

// publish sets the metric and the shared state for the breaker's
// generation gen, unless it has opened or closed since: an opening and a
// closing that race are published in their order.
func (b *Breaker) publish(ctx context.Context, gen uint64, up bool, s relay.Status) {
	b.publishMu.Lock()
	defer b.publishMu.Unlock()
	b.mu.Lock()
	current := b.gen == gen
	b.mu.Unlock()
	if !current {
		return
	}
	b.metrics.RelayUp(up)
	b.setStatus(ctx, s)
}

// watch checks the relay at once, then each time its wait runs out: the
// probe's, open; a minute's, closed or half-open.
func (b *Breaker) watch(ctx context.Context) {
	defer close(b.done)
	b.check(ctx, true)
	for {
		b.mu.Lock()
		wait := b.cfg.MaxProbe
		if b.state == open {
			wait = b.wait
		}
		b.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-b.kick:
			timer.Stop()
			continue
		case <-timer.C:
		}
		b.check(ctx, false)
	}
}

// check probes the relay when there is a reason to: at start; open; or
// closed, when announcements wait for the relay. When the relay takes
// herald's connection and sender, it ends the relay's pauses.
func (b *Breaker) check(ctx context.Context, atStart bool) {
	state, gen := b.settleHalfOpen(ctx)
	switch {
	case state == halfOpen:
		return // the next message tells
	case state == closed && !atStart && !b.worthProbing(ctx, gen):
		return
	}
	err := b.sender.Probe(ctx, b.cfg.From)
	if ctx.Err() != nil {
		return // stopping
	}
	if err != nil {
		b.probeFailed(ctx, state, gen, err)
		return
	}
	if state == open {
		b.probePassed(ctx)
	} else {
		b.publish(ctx, gen, true, relay.Status{State: relay.Working})
	}
	b.resume(ctx)
}

// settleHalfOpen closes a breaker half-open for MaxProbe with no message
// sent nor refused as before, and returns the state and its generation.
func (b *Breaker) settleHalfOpen(ctx context.Context) (breakerState, uint64) {
	b.mu.Lock()
	if b.state != halfOpen || b.cfg.Now().Sub(b.halfOpenAt) < b.cfg.MaxProbe {
		defer b.mu.Unlock()
		return b.state, b.gen
	}
	delete(b.refusing, b.tripKey)
	gen := b.close()
	b.mu.Unlock()
	b.logger.Info("the relay refused nothing as before for a minute; sending goes on")
	b.closed(ctx, gen)
	return closed, gen
}

// worthProbing says, closed, whether announcements wait for the relay;
// and tells the processes whose relay failed that it works here, when a
// message was sent since the last look.
func (b *Breaker) worthProbing(ctx context.Context, gen uint64) bool {
	if b.sent.Swap(false) {
		b.publish(ctx, gen, true, relay.Status{State: relay.Working})
	}
	n, err := b.ledger.PausedForRelay(ctx)
	if err != nil {
		b.logger.Warn("could not look for announcements the relay paused", "err", err)
		return false
	}
	return n > 0
}

// probeFailed handles a failed probe: open, the next waits longer; closed,
// a failure of the relay opens the breaker, and a temporary reply ("too
// busy") is left to the sends.
func (b *Breaker) probeFailed(ctx context.Context, state breakerState, gen uint64, err error) {
	e := mailer.Classify(err)
	switch {
	case state == open:
		b.logger.Debug("the relay still fails", "err", err)
		b.publish(ctx, gen, false, relay.Status{State: relay.Failing, Error: err.Error(), Advice: e.Advice})
		b.mu.Lock()
		b.wait = min(2*b.wait, b.cfg.MaxProbe)
		b.mu.Unlock()
	case e.Relay:
		b.Fail(ctx, e)
	default:
		b.logger.Warn("the relay did not take herald's probe", "err", err)
	}
}

// probePassed moves an open breaker on once the relay takes herald's
// connection, TLS, credentials and sender: closed, when that is what
// failed; half-open, when the relay refused every message, which only a
// message can tell is over.
func (b *Breaker) probePassed(ctx context.Context) {
	b.mu.Lock()
	if b.tripKey != "" {
		b.state, b.halfOpenAt = halfOpen, b.cfg.Now()
		b.wait = min(2*b.wait, b.cfg.MaxProbe) // if the first try fails again
		b.mu.Unlock()
		return
	}
	gen := b.close()
	b.mu.Unlock()
	b.logger.Info("the relay takes herald's connection again")
	b.closed(ctx, gen)
}

// resume ends the pauses the relay made and enqueues their work again. If
// it cannot, the watch tries again within a minute.
func (b *Breaker) resume(ctx context.Context) {
	res, err := b.ledger.ResumeForRelay(ctx)
	if err != nil {
		b.logger.Error("could not resume the announcements the relay paused", "err", err)
		return
	}
	EnqueueResumed(ctx, b.queue, res, b.logger)
	if len(res.Announcements) > 0 {
		b.logger.Info("the relay works; sending resumed", "announcements", len(res.Announcements))
	}
}

// EnqueueResumed enqueues the work of resumed announcements: the fan-outs
// of those that were resolving, and the chunks with pending deliveries of
// those that were sending. What cannot be enqueued is left to the
// reconciler.
func EnqueueResumed(ctx context.Context, q *queue.Queue, res ledger.Resumed, logger *slog.Logger) {
	for _, id := range res.Fanouts {
		q.TryEnqueue(ctx, queue.NewFanoutTask(id), logger)
	}
	for _, c := range res.Chunks {
		q.TryEnqueue(ctx, queue.NewSendTask(c.AnnouncementID, c.Chunk, time.Time{}), logger)
	}
}

func (b *Breaker) setStatus(ctx context.Context, s relay.Status) {
	if err := b.relay.SetStatus(ctx, s); err != nil {
		b.logger.Warn("could not share the relay's state", "err", err)
	}
}
