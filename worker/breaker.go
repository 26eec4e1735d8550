package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/queue"
	"github.com/heraldhq/herald/internal/relay"
)

// Breaker keeps a worker process from sending while the relay fails as a
// whole: it refuses herald's connection, TLS mode or credentials, or it
// answers every message with the same refusal, whoever it is for. Open,
// the workers take no delivery and pause the announcements they find;
// meanwhile the breaker probes the relay, waiting longer each time up to
// a minute, and once the relay takes herald's connection again it resumes
// what the relay paused and lets sends through. A relay that refused every
// message gets one more try before the breaker closes (half-open): the
// same refusal opens it again at once.
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
	wait    time.Duration
	probing bool
	stop    chan struct{}
	stopped sync.Once
}

type breakerState int

const (
	closed breakerState = iota
	open
	halfOpen
)

// BreakerConfig tunes the breaker.
type BreakerConfig struct {
	// Pattern is how many attempts in a row must get the same permanent
	// refusal before it counts as the relay's (default 20).
	Pattern int
	// FirstProbe is the wait before the first probe (default 1s); each
	// failed probe doubles it, up to MaxProbe (default 1 minute).
	FirstProbe, MaxProbe time.Duration
}

// NewBreaker returns a closed breaker.
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
	m.RelayUp(true)
	return &Breaker{sender: sender, relay: r, ledger: led, queue: q, logger: logger, metrics: m, cfg: cfg, stop: make(chan struct{})}
}

// Allows says whether deliveries may be taken now, and if not, why.
func (b *Breaker) Allows() (bool, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state != open, b.reason
}

// Works says the relay answered as a working relay does: it took a
// message, or refused one for its own reasons (a mailbox that does not
// exist, a temporary failure).
func (b *Breaker) Works(ctx context.Context) {
	b.mu.Lock()
	b.streak, b.streakKey = nil, ""
	if b.state != halfOpen {
		b.mu.Unlock()
		return
	}
	b.state, b.reason, b.tripKey, b.wait = closed, "", "", 0
	b.mu.Unlock()
	b.logger.Info("the relay takes messages again")
	b.metrics.RelayUp(true)
	b.setStatus(ctx, relay.Status{State: relay.Working})
}

// Fail opens the breaker: the relay refused herald's connection, TLS or
// credentials (e), which no message can get past.
func (b *Breaker) Fail(ctx context.Context, e *mailer.Error) {
	b.open(ctx, fmt.Sprintf("the relay fails: %v", e), e.Advice, "")
}

// Refused counts a permanent refusal of the message of claim c that is not
// about its mailbox. When the last Pattern attempts all got the same one
// (the same reply code and enhanced code, whatever the text), it is the
// relay's: the breaker opens, and Refused returns the claims of the
// pattern, whose failures must be taken back. Half-open, the refusal that
// opened the breaker opens it again at once.
func (b *Breaker) Refused(ctx context.Context, c ledger.Claim, e *mailer.Error) (takeBack []ledger.Claim, tripped bool) {
	key := fmt.Sprintf("%d %s", e.Code, e.Enhanced)
	b.mu.Lock()
	if b.state != closed && key == b.tripKey {
		// Part of the pattern: in flight when it opened the breaker, or
		// the one try let through, which opens it again.
		reopen := b.state == halfOpen
		b.mu.Unlock()
		if reopen {
			b.open(ctx, b.reasonFor(e), b.adviceFor(e), key)
		}
		return []ledger.Claim{c}, true
	}
	if key != b.streakKey {
		b.streak, b.streakKey = nil, key
	}
	b.streak = append(b.streak, c)
	if len(b.streak) < b.cfg.Pattern {
		b.mu.Unlock()
		return nil, false
	}
	takeBack = b.streak
	b.streak, b.streakKey = nil, ""
	b.mu.Unlock()
	b.open(ctx, b.reasonFor(e), b.adviceFor(e), key)
	return takeBack, true
}

func (b *Breaker) reasonFor(e *mailer.Error) string {
	return fmt.Sprintf("the relay refuses every message with %v", e)
}

func (b *Breaker) adviceFor(*mailer.Error) string {
	return "check the relay's policy for HERALD_FROM: the sending domain verified, herald allowed to relay, the account's sending enabled"
}

// open opens the breaker, if it is not open, logs why once and starts
// probing the relay.
func (b *Breaker) open(ctx context.Context, reason, advice, tripKey string) {
	b.mu.Lock()
	wasClosed := b.state == closed
	b.state, b.reason, b.tripKey = open, reason, tripKey
	if b.wait == 0 {
		b.wait = b.cfg.FirstProbe
	}
	startProbe := !b.probing
	b.probing = true
	b.mu.Unlock()

	if wasClosed {
		b.logger.Error("sending paused: "+reason, "fix", advice)
		b.metrics.RelayUp(false)
	}
	b.setStatus(ctx, relay.Status{State: relay.Failing, Error: reason, Advice: advice})
	if startProbe {
		go b.probe()
	}
}

// probe tries the relay until it takes herald's connection, then resumes
// the announcements it paused and lets one try through.
func (b *Breaker) probe() {
	ctx := context.Background()
	for {
		b.mu.Lock()
		wait := b.wait
		b.mu.Unlock()
		select {
		case <-b.stop:
			return
		case <-time.After(wait):
		}
		if err := b.sender.Probe(ctx); err != nil {
			e := mailer.Classify(err)
			b.logger.Debug("the relay still fails", "err", err)
			b.setStatus(ctx, relay.Status{State: relay.Failing, Error: err.Error(), Advice: e.Advice})
			b.mu.Lock()
			b.wait = min(2*b.wait, b.cfg.MaxProbe)
			b.mu.Unlock()
			continue
		}
		b.mu.Lock()
		b.state, b.probing = halfOpen, false
		b.wait = min(2*b.wait, b.cfg.MaxProbe) // if the first try fails again
		b.mu.Unlock()
		b.metrics.RelayUp(true)
		b.setStatus(ctx, relay.Status{State: relay.Working})
		b.resume(ctx)
		return
	}
}

// resume ends the pauses the relay made and enqueues their work again.
func (b *Breaker) resume(ctx context.Context) {
	res, err := b.ledger.ResumeForRelay(ctx)
	if err != nil {
		// The reconciler cannot resume them; the next probe will.
		b.logger.Error("could not resume the announcements the relay paused", "err", err)
		return
	}
	for _, id := range res.Fanouts {
		b.queue.TryEnqueue(ctx, queue.NewFanoutTask(id), b.logger)
	}
	for _, c := range res.Chunks {
		b.queue.TryEnqueue(ctx, queue.NewSendTask(c.AnnouncementID, c.Chunk, time.Time{}), b.logger)
	}
	if len(res.Announcements) > 0 {
		b.logger.Info("the relay takes connections again; sending resumed", "announcements", len(res.Announcements))
	}
}

func (b *Breaker) setStatus(ctx context.Context, s relay.Status) {
	if err := b.relay.SetStatus(ctx, s); err != nil {
		b.logger.Warn("could not share the relay's state", "err", err)
	}
}

// Stop stops probing.
func (b *Breaker) Stop() { b.stopped.Do(func() { close(b.stop) }) }
