package apptest

import (
	"context"
	"slices"
	"sync"

	"github.com/heraldhq/herald/internal/bounce"
)

// Bounces is a bounce.Sink that keeps the events it is given, applying a
// repeat (the same source and event id) once, as herald's sink must: the
// webhooks' tests look at what they would record.
type Bounces struct {
	mu     sync.Mutex
	events []bounce.Event
	seen   map[string]bool
}

// Record implements bounce.Sink.
func (s *Bounces) Record(_ context.Context, e bounce.Event) (bool, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
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
