// Package queue is herald's work queue on Redis (asynq): the task types and
// their payloads, which carry ids and never messages; the connection to
// Redis, or to an embedded one when none is configured.
package queue

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Task types.
const (
	// TypeFanout resolves an announcement's audience into deliveries.
	TypeFanout = "announce:fanout"
	// TypeSend sends the pending deliveries of one chunk of an announcement.
	TypeSend = "announce:send"
)

// FanoutPayload is the payload of TypeFanout.
type FanoutPayload struct {
	Announcement int64 `json:"announcement"`
}

// SendPayload is the payload of TypeSend.
type SendPayload struct {
	Announcement int64 `json:"announcement"`
	Chunk        int   `json:"chunk"`
}

// Task is an asynq task with the id it is enqueued under.
type Task struct {
	*asynq.Task
	ID     string
	urgent bool
}

// Urgent returns t to be enqueued on the urgent queue.
func (t Task) Urgent() Task {
	t.urgent = true
	return t
}

// NewFanoutTask returns the fan-out of an announcement. Its id is
// fanout:<announcement>, so enqueueing it twice while it waits collapses.
func NewFanoutTask(announcement int64) Task {
	payload, _ := json.Marshal(FanoutPayload{Announcement: announcement}) // cannot fail
	id := fmt.Sprintf("fanout:%d", announcement)
	return Task{Task: asynq.NewTask(TypeFanout, payload, asynq.TaskID(id), asynq.MaxRetry(25), asynq.Timeout(10*time.Minute)), ID: id}
}

// NewSendTask returns the sending of one chunk, to run at at (now when zero
// or past). Its id is send:<announcement>:<chunk>, and for a retry later on
// send:<announcement>:<chunk>@<unix time>, so that the same work enqueued
// twice collapses.
func NewSendTask(announcement int64, chunk int, at time.Time) Task {
	payload, _ := json.Marshal(SendPayload{Announcement: announcement, Chunk: chunk}) // cannot fail
	id := fmt.Sprintf("send:%d:%d", announcement, chunk)
	opts := []asynq.Option{asynq.MaxRetry(25), asynq.Timeout(30 * time.Minute)}
	if at.After(time.Now()) {
		id += fmt.Sprintf("@%d", at.Unix())
		opts = append(opts, asynq.ProcessAt(at))
	}
	return Task{Task: asynq.NewTask(TypeSend, payload, append(opts, asynq.TaskID(id))...), ID: id}
}

// DecodeFanout reads a TypeFanout payload.
func DecodeFanout(t *asynq.Task) (FanoutPayload, error) {
	var p FanoutPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Announcement <= 0 {
		return p, fmt.Errorf("decode %s payload %q: %v: %w", t.Type(), t.Payload(), err, asynq.SkipRetry)
	}
	return p, nil
}

// DecodeSend reads a TypeSend payload.
func DecodeSend(t *asynq.Task) (SendPayload, error) {
	var p SendPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Announcement <= 0 || p.Chunk < 0 {
		return p, fmt.Errorf("decode %s payload %q: %v: %w", t.Type(), t.Payload(), err, asynq.SkipRetry)
	}
	return p, nil
}
