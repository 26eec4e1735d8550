package relay_test

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/config"
	"github.com/heraldhq/herald/internal/queuetest"
	"github.com/heraldhq/herald/internal/relay"
)

func newRelay(t *testing.T, rate config.Rate) (*relay.Relay, func(config.Rate) *relay.Relay) {
	t.Helper()
	q := queuetest.Open(t)
	another := func(rate config.Rate) *relay.Relay { return relay.New(q.Redis(), q.Name(), rate) }
	return another(rate), another
}

func TestRate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SharedByEveryProcess", func(t *testing.T) {
		t.Parallel()
		rate := config.Rate{N: 20, Per: time.Second}
		_, another := newRelay(t, rate)
		// Three processes take 60 messages from one limit of 20 a second
		// with a burst of 2: the last leaves no sooner than 2.9 s after
		// the first (58 messages at 20 a second, after the burst).
		start := time.Now()
		var wg sync.WaitGroup
		for range 3 {
			r := another(rate)
			wg.Go(func() {
				for range 20 {
					if _, err := r.Wait(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if took := time.Since(start); took < 2800*time.Millisecond {
			t.Errorf("60 messages at 20/s with a burst of 2 took %s, want at least 2.9s", took)
		}
	})

	t.Run("ThrottlingHalvesItForEveryoneOnceASecond", func(t *testing.T) {
		t.Parallel()
		one, another := newRelay(t, config.Rate{N: 200, Per: time.Second})
		two := another(config.Rate{N: 200, Per: time.Second})
		for range 5 { // a burst of throttled replies from both
			one.Throttled(ctx)
			two.Throttled(ctx)
		}
		if got := two.Rate(ctx); got.Configured != 200 || got.Effective != 100 {
			t.Errorf("after a burst of throttled replies: %+v, want 200 halved once", got)
		}
		// A pass right after the halving does not raise it back.
		one.Passed(ctx)
		if got := one.Rate(ctx); got.Effective != 100 {
			t.Errorf("a pass right after: %+v, want still 100", got)
		}
	})

	t.Run("PassesRaiseItOnceTheRelayIsCalm", func(t *testing.T) {
		t.Parallel()
		one, another := newRelay(t, config.Rate{N: 200, Per: time.Second})
		one.Throttled(ctx)
		time.Sleep(5200 * time.Millisecond) // calm: five seconds without a halving
		one.Passed(ctx)
		one.Passed(ctx) // the same second: no second raise
		two := another(config.Rate{N: 200, Per: time.Second})
		if got := two.Rate(ctx); math.Round(got.Effective) != 110 {
			t.Errorf("after two passes in a calm second: %+v, want 100 raised by a twentieth of 200 once", got)
		}
		time.Sleep(1100 * time.Millisecond)
		for range 3 {
			two.Passed(ctx)
		}
		if got := two.Rate(ctx); math.Round(got.Effective) != 120 {
			t.Errorf("a second later: %+v, want 120", got)
		}
	})

	t.Run("NoRateNoLimit", func(t *testing.T) {
		t.Parallel()
		r, _ := newRelay(t, config.Rate{})
		start := time.Now()
		for range 1000 {
			if _, err := r.Wait(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r.Throttled(ctx)
		if got := r.Rate(ctx); got.Configured != 0 || got.Effective != 0 || time.Since(start) > 5*time.Second {
			t.Errorf("without a rate: %+v", got)
		}
	})
}

func TestStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, another := newRelay(t, config.Rate{})
	if s, err := r.Status(ctx); err != nil || s.State != relay.Unknown {
		t.Fatalf("before any try: %+v, %v", s, err)
	}
	if err := r.SetStatus(ctx, relay.Status{State: relay.Failing, Error: "535 5.7.8 Authentication failed", Advice: "check the password"}); err != nil {
		t.Fatal(err)
	}
	first, _ := another(config.Rate{}).Status(ctx)
	if first.State != relay.Failing || first.Advice != "check the password" || first.Since.IsZero() {
		t.Errorf("another process reads %+v", first)
	}
	if err := r.SetStatus(ctx, relay.Status{State: relay.Failing, Error: "again"}); err != nil {
		t.Fatal(err)
	}
	if again, _ := r.Status(ctx); !again.Since.Equal(first.Since) || again.Error != "again" {
		t.Errorf("failing again: %+v, want the first failure's time kept", again)
	}
}
