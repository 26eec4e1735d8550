package worker_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/mailer"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/queuetest"
	"github.com/heraldhq/herald/internal/relay"
	"github.com/heraldhq/herald/worker"
)

// breakerBundle is a breaker on a real ledger, Redis and sender (an
// outbox: a relay that always works), and its metrics.
type breakerBundle struct {
	*worker.Breaker
	metrics *metrics.Metrics
	relay   *relay.Relay
}

func newBreaker(t *testing.T, cfg worker.BreakerConfig) breakerBundle {
	t.Helper()
	return breakers(t)(cfg)
}

// breakers returns a maker of breakers that share one ledger and Redis,
// and so the relay's shared state, like the processes of one herald.
func breakers(t *testing.T) func(worker.BreakerConfig) breakerBundle {
	t.Helper()
	q := queuetest.Open(t)
	out, err := mailer.NewOutbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	led := ledger.New(dbtest.SQLite.Open(t), time.Now)
	return func(cfg worker.BreakerConfig) breakerBundle {
		r := relay.New(q.Redis(), q.Name(), config.Rate{})
		m := metrics.New()
		b := worker.NewBreaker(cfg, out, r, led, q, slog.New(slog.NewTextHandler(io.Discard, nil)), m)
		t.Cleanup(b.Stop)
		return breakerBundle{Breaker: b, metrics: m, relay: r}
	}
}

// relayUp reads herald_relay_up as Prometheus scrapes it.
func (b breakerBundle) relayUp(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	b.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "herald_relay_up "); ok {
			return v
		}
	}
	t.Fatal("no herald_relay_up in /metrics")
	return ""
}

func (b breakerBundle) state(t *testing.T) relay.State {
	t.Helper()
	s, err := b.relay.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.State
}

// refusal is SES refusing an unverified sender, the same for everyone.
var refusal = &mailer.Error{Code: 554, Enhanced: "5.7.1", Stage: mailer.StageMessage,
	Err: errors.New("554 5.7.1 Message rejected: Email address is not verified")}

// tripBreaker refuses Pattern messages in a row.
func tripBreaker(t *testing.T, b breakerBundle, pattern int) []ledger.Claim {
	t.Helper()
	var taken []ledger.Claim
	for i := range pattern {
		got, v := b.Refused(context.Background(), ledger.Claim{Delivery: int64(i + 1), Attempt: 1, Fence: 1}, refusal)
		if i < pattern-1 && v != worker.Failed {
			t.Fatalf("refusal %d: %v, want failed until the pattern is complete", i+1, v)
		}
		taken = got
	}
	return taken
}

func TestBreakerTakesBackEveryRefusalOfAPatternMetAtOnce(t *testing.T) {
	t.Parallel()
	// Forty workers refused at once: the twenty of the pattern and the
	// twenty that came while it opened are all taken back, whatever the
	// interleaving.
	newBreaker := breakers(t)
	for round := range 50 {
		b := newBreaker(worker.BreakerConfig{Pattern: 20})
		var (
			mu    sync.Mutex
			taken = map[int64]int{}
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for i := range 40 {
			wg.Go(func() {
				<-start
				claims, v := b.Refused(context.Background(), ledger.Claim{Delivery: int64(i + 1), Attempt: 1, Fence: 1}, refusal)
				if v == worker.PausedForStaff {
					t.Errorf("round %d: paused for staff at the first pattern", round)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, c := range claims {
					taken[c.Delivery]++
				}
			})
		}
		close(start)
		wg.Wait()
		if len(taken) != 40 {
			t.Fatalf("round %d: %d of 40 refusals taken back, want all", round, len(taken))
		}
		for d, n := range taken {
			if n != 1 {
				t.Errorf("round %d: delivery %d taken back %d times", round, d, n)
			}
		}
		if ok, _ := b.Allows(); ok {
			t.Fatalf("round %d: the breaker lets sends through after the pattern", round)
		}
	}
}

func TestBreakerHalfOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newBreaker(t, worker.BreakerConfig{Pattern: 3, FirstProbe: 10 * time.Millisecond, MaxProbe: time.Minute})
	if got := tripBreaker(t, b, 3); len(got) != 3 {
		t.Fatalf("the pattern took back %d refusals, want 3", len(got))
	}
	if up, state := b.relayUp(t), b.state(t); up != "0" || state != relay.Failing {
		t.Errorf("open: herald_relay_up %s, relay %s; want 0 and failing", up, state)
	}
	halfOpen := func() {
		t.Helper()
		apptest.WaitFor(t, 10*time.Second, "a probe to let a message try", func() bool { ok, _ := b.Allows(); return ok })
		if up, state := b.relayUp(t), b.state(t); up != "0" || state != relay.Failing {
			t.Errorf("half-open: herald_relay_up %s, relay %s; want 0 and failing until a message passes", up, state)
		}
	}
	b.Start()
	halfOpen()

	// The same refusal again opens it at once, told as the first time.
	claims, v := b.Refused(ctx, ledger.Claim{Delivery: 99, Attempt: 1, Fence: 1}, refusal)
	if len(claims) != 1 || v != worker.PausedForRelay {
		t.Errorf("the refusal half-open: %d claims, %v; want it taken back and paused for the relay", len(claims), v)
	}
	if ok, _ := b.Allows(); ok {
		t.Error("the breaker lets sends through after the same refusal half-open")
	}
	if up := b.relayUp(t); up != "0" {
		t.Errorf("reopened: herald_relay_up %s, want 0", up)
	}

	halfOpen()
	// A mailbox refusal or a temporary one says nothing of the refusal
	// that opened it.
	b.Works()
	if up := b.relayUp(t); up != "0" {
		t.Errorf("half-open after a mailbox refusal: herald_relay_up %s, want still 0", up)
	}
	b.Sent(ctx)
	if up, state := b.relayUp(t), b.state(t); up != "1" || state != relay.Working {
		t.Errorf("after a message passed: herald_relay_up %s, relay %s; want 1 and ok", up, state)
	}
	// Closed, a refusal is one refusal again.
	if _, v := b.Refused(ctx, ledger.Claim{Delivery: 100, Attempt: 1, Fence: 1}, refusal); v != worker.Failed {
		t.Errorf("one refusal after closing: %v, want failed", v)
	}
}

func TestBreakerGivesUpOnARefusalThatOutlastsTheRelaysRecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &apptest.Clock{}
	b := newBreaker(t, worker.BreakerConfig{Pattern: 3, FirstProbe: 10 * time.Millisecond, Now: clock.Now})
	tripBreaker(t, b, 3)
	b.Start()
	apptest.WaitFor(t, 10*time.Second, "half-open", func() bool { ok, _ := b.Allows(); return ok })
	clock.Add(16 * time.Minute) // past GiveUp since the first trip
	claims, v := b.Refused(ctx, ledger.Claim{Delivery: 99, Attempt: 1, Fence: 1}, refusal)
	if len(claims) != 1 || v != worker.PausedForStaff {
		t.Fatalf("the same refusal after GiveUp: %d claims, %v; want it taken back and left to staff", len(claims), v)
	}
	// Other announcements go on; the same pattern in them is left to
	// staff at once, until a message passes.
	if ok, _ := b.Allows(); !ok {
		t.Error("the breaker stays open after giving up")
	}
	if got, v := tripBreakerVerdict(t, b, 3); len(got) != 3 || v != worker.PausedForStaff {
		t.Errorf("the same pattern again: %d claims, %v; want left to staff", len(got), v)
	}
	b.Sent(ctx)
	if _, v := tripBreakerVerdict(t, b, 3); v != worker.PausedForRelay {
		t.Errorf("the pattern after a message passed: %v, want paused for the relay again", v)
	}
}

// tripBreakerVerdict is tripBreaker with the pattern's verdict.
func tripBreakerVerdict(t *testing.T, b breakerBundle, pattern int) ([]ledger.Claim, worker.Verdict) {
	t.Helper()
	var (
		claims []ledger.Claim
		v      worker.Verdict
	)
	for i := range pattern {
		claims, v = b.Refused(context.Background(), ledger.Claim{Delivery: int64(1000 + i), Attempt: 1, Fence: 1}, refusal)
	}
	return claims, v
}

func TestBreakerIgnoresFailuresWithoutAReply(t *testing.T) {
	t.Parallel()
	b := newBreaker(t, worker.BreakerConfig{Pattern: 3})
	for i := range 10 {
		// A message herald could not build: no relay was asked.
		if _, v := b.Refused(context.Background(), ledger.Claim{Delivery: int64(i)}, &mailer.Error{Err: errors.New("build the message: bad header")}); v != worker.Failed {
			t.Fatalf("failure %d without a reply: %v, want failed", i+1, v)
		}
	}
	if ok, _ := b.Allows(); !ok {
		t.Error("failures without a reply opened the breaker")
	}
}

func TestBreakerHalfOpenWithNothingToTryCloses(t *testing.T) {
	t.Parallel()
	// The announcement the refusal paused was cancelled: no message comes
	// to tell. After a while the breaker closes, and a refusal much later
	// is one refusal, not the old pattern.
	b := newBreaker(t, worker.BreakerConfig{Pattern: 3, FirstProbe: 10 * time.Millisecond, MaxProbe: 100 * time.Millisecond, GiveUp: 50 * time.Millisecond})
	tripBreaker(t, b, 3)
	b.Start()
	apptest.WaitFor(t, 10*time.Second, "the breaker to close", func() bool { return b.relayUp(t) == "1" })
	if state := b.state(t); state != relay.Working {
		t.Errorf("closed: relay %s, want ok", state)
	}
	if _, v := b.Refused(context.Background(), ledger.Claim{Delivery: 99, Attempt: 1, Fence: 1}, refusal); v != worker.Failed {
		t.Errorf("one refusal after closing: %v, want failed", v)
	}
	if _, v := tripBreakerVerdict(t, b, 3); v != worker.PausedForRelay {
		t.Errorf("the pattern again: %v, want paused for the relay, not given up on", v)
	}
}

func TestBreakerSharesThatTheRelayWorks(t *testing.T) {
	t.Parallel()
	// One worker process found the relay failing and went away; another
	// sends, and says the relay works.
	newBreaker := breakers(t)
	sending := newBreaker(worker.BreakerConfig{MaxProbe: 50 * time.Millisecond})
	sending.Start()
	apptest.WaitFor(t, 10*time.Second, "the start check", func() bool { return sending.state(t) == relay.Working })
	gone := newBreaker(worker.BreakerConfig{})
	gone.Fail(context.Background(), &mailer.Error{Relay: true, Err: errors.New("535 5.7.8 Authentication failed")})
	if state := sending.state(t); state != relay.Failing {
		t.Fatalf("relay %s after another process's failure, want failing", state)
	}
	time.Sleep(200 * time.Millisecond) // watches with nothing sent leave it failing
	if state := sending.state(t); state != relay.Failing {
		t.Fatalf("relay %s with nothing sent, want still failing", state)
	}
	sending.Sent(context.Background())
	apptest.WaitFor(t, 10*time.Second, "the relay's state to be ok", func() bool { return sending.state(t) == relay.Working })
}
