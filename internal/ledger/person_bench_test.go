package ledger_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/ledger"
	"github.com/heraldhq/herald/internal/page"
)

// BenchmarkPersonDeliveries reads one person's history on a ledger of
// 200,000 deliveries (2,000 announcements to 100 people each, and 10 to
// Ann among the oldest), with the
// (email, id) index and then without it, and reports the ratio: the index
// is what keeps the history of one person from reading the whole ledger.
//
//	go test ./internal/ledger -run '^$' -bench PersonDeliveries
func BenchmarkPersonDeliveries(b *testing.B) {
	ctx := context.Background()
	d := dbtest.SQLite.Open(b)
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	const announcements, people = 2000, 100
	if _, err := db.Exec(ctx, d, `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO announcements (id, kind, dedupe_key, template, subject, send_at, status, created_at, updated_at)
		SELECT i, 'broadcast', 'bench-' || i, 'broadcast', 'Broadcast ' || i, ?, 'done', ?, ? FROM n`,
		announcements, at, at, at); err != nil {
		b.Fatal(err)
	}
	// Ann was a contact long ago: her 10 deliveries are the ledger's
	// oldest, so a scan newest first has to read it all to find them.
	if _, err := db.Exec(ctx, d, `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
		INSERT INTO deliveries (announcement_id, email, chunk, status, next_attempt_at, created_at, updated_at)
		SELECT i, 'ann@acme.test', 0, 'sent', ?, ?, ? FROM n`, at, at, at); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(ctx, d, `
		WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
		INSERT INTO deliveries (announcement_id, email, chunk, status, next_attempt_at, created_at, updated_at)
		SELECT i / ? + 1, 'p' || (i % ?) || '@acme.test', 0, 'sent', ?, ?, ? FROM n`,
		announcements*people, people, people, at, at, at); err != nil {
		b.Fatal(err)
	}
	l := ledger.New(d, func() time.Time { return at })
	read := func(n int) time.Duration {
		start := time.Now()
		for range n {
			p, err := l.PersonDeliveries(ctx, ledger.PersonFilter{Email: "ann@acme.test", Page: page.Request{Limit: 50}})
			if err != nil || len(p.Items) != 10 {
				b.Fatalf("history: %d items, %v", len(p.Items), err)
			}
		}
		return time.Since(start)
	}
	b.ResetTimer()
	indexed := read(b.N)
	b.StopTimer()
	if _, err := db.Exec(ctx, d, `DROP INDEX deliveries_email`); err != nil {
		b.Fatal(err)
	}
	scans := max(1, b.N/100) // a scan is slow: fewer of them say as much
	scanned := read(scans)
	perIndexed := float64(indexed) / float64(b.N)
	perScan := float64(scanned) / float64(scans)
	b.ReportMetric(perIndexed/1e3, "indexed-µs/op")
	b.ReportMetric(perScan/1e3, "scan-µs/op")
	b.ReportMetric(perIndexed/perScan, "indexed/scan")
}
