// Package queuetest gives tests a work queue: on the Redis named by
// HERALD_TEST_REDIS_URL when it is set, with a queue name of its own so
// that tests do not take each other's tasks, else on an embedded Redis.
package queuetest

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/queue"
)

// EnvRedisURL names the Redis the tests may use.
const EnvRedisURL = "HERALD_TEST_REDIS_URL"

// URL is the Redis the tests may use, empty for an embedded one.
func URL() string { return os.Getenv(EnvRedisURL) }

// Name is a fresh queue name, which no other test uses.
func Name() string { return "test-" + strings.ToLower(rand.Text()[:10]) }

// Open returns a queue that is closed when the test ends.
func Open(t testing.TB) *queue.Queue {
	t.Helper()
	q, err := queue.Open(context.Background(), URL(), Name(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open test queue: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}
