package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Backlog reads what is waiting to be done, when Prometheus scrapes: the
// queue's tasks by state and the deliveries not yet finished by status.
// Both are read, not counted in the process, so that every process
// reports the same shared figures, whichever role it runs.
type Backlog struct {
	// Tasks returns the queue's tasks by state (pending, active,
	// scheduled, retry, archived).
	Tasks func(ctx context.Context) (map[string]int, error)
	// Deliveries returns the unfinished deliveries by status (pending,
	// sending).
	Deliveries func(ctx context.Context) (map[string]int, error)
	// Logger hears of a read that failed; the scrape then omits that
	// gauge rather than report a stale or zero value.
	Logger *slog.Logger
}

// backlogTimeout bounds each read, below Prometheus's default scrape
// timeout of 10 s.
const backlogTimeout = 3 * time.Second

var (
	queueTasksDesc = prometheus.NewDesc("herald_queue_tasks",
		"Tasks in the work queue, by state.", []string{"state"}, nil)
	unfinishedDesc = prometheus.NewDesc("herald_deliveries_unfinished",
		"Deliveries not yet sent, failed or skipped, by status (pending, sending).", []string{"status"}, nil)
)

// WatchBacklog reports b's figures as gauges from now on. Only the first
// call counts: a process has one queue and one database.
func (m *Metrics) WatchBacklog(b Backlog) {
	if m == nil {
		return
	}
	m.backlogOnce.Do(func() { m.registry.MustRegister(backlogCollector(b)) })
}

type backlogCollector Backlog

func (c backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueTasksDesc
	ch <- unfinishedDesc
}

func (c backlogCollector) Collect(ch chan<- prometheus.Metric) {
	c.collect(ch, "herald_queue_tasks", queueTasksDesc, c.Tasks)
	c.collect(ch, "herald_deliveries_unfinished", unfinishedDesc, c.Deliveries)
}

func (c backlogCollector) collect(ch chan<- prometheus.Metric, name string, desc *prometheus.Desc, read func(context.Context) (map[string]int, error)) {
	if read == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	counts, err := read(ctx)
	if err != nil {
		if c.Logger != nil {
			c.Logger.Warn("metrics: reading the backlog failed", "metric", name, "err", err)
		}
		return
	}
	for label, n := range counts {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, float64(n), label)
	}
}
