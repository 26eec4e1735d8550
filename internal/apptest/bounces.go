package apptest

import (
	"context"
	"slices"
	"sync"

	"github.com/heraldhq/herald/internal/bounce"
)

// Bounces is a bounce.Sink that keeps the events it is given, applying a
// repeat (the same source and event id) once, as herald's sink must: the
// webhooks' and the inbound server's tests look at what they would
// record. It fails as a database that is down would, when told (Fail).
type Bounces struct {
	mu     sync.Mutex
	events []bounce.Event
	seen   map[string]bool
	fail   error
}

// Fail makes every Record fail with err from now on; nil ends that.
func (s *Bounces) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Record implements bounce.Sink.
func (s *Bounces) Record(_ context.Context, e bounce.Event) (bool, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return false, "", s.fail
	}
	key := e.Source + "\x00" + e.EventID
	if s.seen[key] {
		return false, "a repeat", nil
	}
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	s.seen[key] = true
	s.events = append(s.events, e)
	return true, "", nil
}

// Events returns the events recorded, in order.
func (s *Bounces) Events() []bounce.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}
