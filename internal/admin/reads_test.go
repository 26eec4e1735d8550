package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/apptest"
	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// getWithin GETs path with the bundle's token, giving up after timeout: a
// request stuck behind the writer fails the test instead of hanging it.
func (b *testBundle) getWithin(t testing.TB, path string, timeout time.Duration) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return res.StatusCode, string(body)
}

// holdWriter opens a write transaction, as an import does, that inserts
// license id and stays open until the returned function is called; that
// function commits it.
func (b *testBundle) holdWriter(t *testing.T, id string) (commit func()) {
	t.Helper()
	ctx := context.Background()
	inTx, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- b.DB.InTx(ctx, func(tx *sqlx.Tx) error {
			now := time.Now().UTC()
			if _, err := db.Exec(ctx, tx, `INSERT INTO licenses (id, product, name, created_at, updated_at) VALUES (?, 'jira', 'Held', ?, ?)`, id, now, now); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	select {
	case <-inTx:
	case err := <-done:
		t.Fatalf("the write transaction ended early: %v", err)
	}
	var once bool
	commit = func() {
		if once {
			return
		}
		once = true
		close(release)
		if err := <-done; err != nil {
			t.Errorf("commit the held transaction: %v", err)
		}
	}
	t.Cleanup(commit)
	return commit
}

// TestReadsDoNotWaitForWrites holds the database's writer, as a 100,000-row
// import does for seconds, and reads through the API: authenticated GETs
// and /readyz answer at once, with what was committed before.
func TestReadsDoNotWaitForWrites(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})

		commit := b.holdWriter(t, "SEN-HELD")
		// The writer is held until commit: without readers of their own,
		// these would wait for it until the deadline.
		const deadline = 5 * time.Second
		for _, tc := range []struct {
			path string
			want int
		}{
			{"/api/v1/licenses/SEN-1234", http.StatusOK},
			{"/api/v1/licenses", http.StatusOK},
			{"/api/v1/contacts/ann@acme.test", http.StatusOK},
			{"/api/v1/licenses/SEN-HELD", http.StatusNotFound}, // not committed yet
			{"/readyz", http.StatusOK},
		} {
			if status, body := b.getWithin(t, tc.path, deadline); status != tc.want {
				t.Errorf("GET %s while the writer is held = %d, want %d: %s", tc.path, status, tc.want, body)
			}
		}
		commit()
		if status, body := b.getWithin(t, "/api/v1/licenses/SEN-HELD", deadline); status != http.StatusOK {
			t.Errorf("GET the license after the commit = %d: %s", status, body)
		}
	})
}

// BenchmarkGetDuringImport times an authenticated GET while a 100,000-row
// contacts import runs, against the same GET with nothing else running.
// It reports the ratio of the mean times, and the slowest GET during the
// import in milliseconds (which must stay well under a second):
//
//	go test ./internal/admin -run '^$' -bench GetDuringImport -benchtime 1x
func BenchmarkGetDuringImport(b *testing.B) {
	const rows = 100_000
	bundle := &testBundle{apptest.Start(b, apptest.Options{Database: dbtest.Any(), API: true})}
	ctx := context.Background()
	if _, err := bundle.Contacts.CreateLicense(ctx, contacts.Actor{Via: contacts.ViaAPI, Name: "test"}, contacts.NewLicense{ID: "SEN-BASE", Product: "jira", Name: "Base",
		Contacts: []contacts.NewMember{{Email: "base@acme.test", Role: contacts.Technical}}}); err != nil {
		b.Fatal(err)
	}
	get := func() time.Duration {
		start := time.Now()
		if status, body := bundle.getWithin(b, "/api/v1/licenses/SEN-BASE", time.Minute); status != http.StatusOK {
			b.Fatalf("GET = %d: %s", status, body)
		}
		return time.Since(start)
	}
	for range 20 { // warm the connections up
		get()
	}

	var baseline, during []time.Duration
	var imports time.Duration
	b.ResetTimer()
	for i := range b.N {
		for range 200 {
			baseline = append(baseline, get())
		}
		csv := importCSV(fmt.Sprintf("B%d-", i), rows)
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			status, body := bundle.postCSV(csv)
			if status != http.StatusOK {
				done <- fmt.Errorf("import = %d: %.300s", status, body)
				return
			}
			done <- nil
		}()
		// A GET every 20 ms, as clients would send them: back to back,
		// they would take a core from the import.
		tick := time.NewTicker(20 * time.Millisecond)
	importing:
		for {
			select {
			case err := <-done:
				if err != nil {
					b.Fatal(err)
				}
				break importing
			case <-tick.C:
				during = append(during, get())
			}
		}
		tick.Stop()
		imports += time.Since(start)
	}
	b.StopTimer()
	if len(during) == 0 {
		b.Fatal("no GET ran during the import")
	}
	b.ReportMetric(float64(mean(during))/float64(mean(baseline)), "ratio")
	b.ReportMetric(float64(slices.Max(during))/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(mean(baseline))/float64(time.Millisecond), "base-ms")
	b.ReportMetric(imports.Seconds()/float64(b.N), "import-s")
	b.ReportMetric(float64(len(during))/float64(b.N), "gets/import")
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// importCSV is a contacts CSV of n rows: licenses of four members each.
func importCSV(prefix string, n int) string {
	var sb strings.Builder
	sb.WriteString("license_id,product,license_name,email,name,role,main\n")
	for i := range n {
		license := i / 4
		role := [...]string{"technical", "technical", "billing", "billing"}[i%4]
		fmt.Fprintf(&sb, "%sSEN-%d,jira,Customer %d,p%d@%sc%d.test,Person %d,%s,%v\n",
			prefix, license, license, i%4, strings.ToLower(prefix), license, i, role, i%2 == 0)
	}
	return sb.String()
}

// postCSV imports a contacts CSV through the API.
func (b *testBundle) postCSV(csv string) (int, string) {
	req, err := http.NewRequest(http.MethodPost, b.URL+"/api/v1/contacts/import", strings.NewReader(csv))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+b.Token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
