package apptest

import (
	"io"
	"sync"
	"testing"
)

// logWriter writes to the test's log until the test's cleanups are done:
// a goroutine of herald that logs after them must not fail the test.
func logWriter(t testing.TB) io.Writer {
	w := &guardedWriter{w: t.Output()}
	t.Cleanup(w.close)
	return w
}

type guardedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	closed bool
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return len(p), nil
	}
	return g.w.Write(p)
}

func (g *guardedWriter) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
}
