package markdown

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"sync/atomic"
)

// Cache renders each text once and keeps its HTML for the next recipient:
// a release notice to a thousand people is converted once per process, not
// a thousand times. It is keyed by the text's SHA-256, so an announcement
// that is edited, or two announcements with the same notes, need nothing
// else to stay right, and bounded by the bytes it holds, least recently
// used first out. It is safe for concurrent use; a text being rendered is
// waited for, not rendered again by a second send task.
type Cache struct {
	maxBytes int
	renders  atomic.Int64

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*list.Element
	lru     *list.List // of *entry, most recently used first
	bytes   int
}

type entry struct {
	key  [sha256.Size]byte
	done chan struct{} // closed once html and err are set
	html string
	err  error
	size int
}

// NewCache returns a cache holding at most maxBytes of Markdown and HTML. A
// text larger than that with its HTML is rendered for each caller.
func NewCache(maxBytes int) *Cache {
	return &Cache{maxBytes: maxBytes, entries: map[[sha256.Size]byte]*list.Element{}, lru: list.New()}
}

// Render returns the HTML of src, converting it only if the cache does not
// hold it yet.
func (c *Cache) Render(src string) (string, error) {
	key := sha256.Sum256([]byte(src))
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		c.mu.Unlock()
		e := el.Value.(*entry)
		<-e.done
		return e.html, e.err
	}
	e := &entry{key: key, done: make(chan struct{})}
	c.entries[key] = c.lru.PushFront(e)
	c.mu.Unlock()

	c.renders.Add(1)
	e.html, e.err = Render(src)
	close(e.done)

	c.mu.Lock()
	defer c.mu.Unlock()
	el, still := c.entries[key]
	if !still || el.Value != e {
		return e.html, e.err
	}
	if e.err != nil {
		// A failure is not kept: the next recipient tries again.
		c.remove(el)
		return e.html, e.err
	}
	size := len(src) + len(e.html)
	if size > c.maxBytes {
		// Kept, it would push out every other text and still be over.
		c.remove(el)
		return e.html, e.err
	}
	e.size = size
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
	return e.html, e.err
}

func (c *Cache) remove(el *list.Element) {
	e := el.Value.(*entry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

// Renders is how many texts the cache has converted since it was made.
func (c *Cache) Renders() int64 { return c.renders.Load() }
