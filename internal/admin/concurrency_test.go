package admin_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// TestConcurrentMembershipChanges has 50 clients promote, remove and add
// contacts of one license at once. Whatever the interleaving, every role
// must end with contacts and exactly one main, and no request may fail for
// any reason other than a rule (409) or a contact that is already gone (404).
func TestConcurrentMembershipChanges(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-1","product":"jira","name":"Acme"}`})
		roles := []string{"technical", "billing"}
		people := make([]string, 6)
		for i := range people {
			people[i] = fmt.Sprintf("p%d@acme.test", i)
			for _, role := range roles {
				b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses/SEN-1/contacts",
					body: fmt.Sprintf(`{"email":%q,"role":%q}`, people[i], role)})
			}
		}

		const clients, opsEach = 50, 8
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			statuses = map[int]int{}
		)
		for c := range clients {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(c), 42))
				for range opsEach {
					email, role := people[rng.IntN(len(people))], roles[rng.IntN(len(roles))]
					var req request
					switch rng.IntN(3) {
					case 0:
						req = request{method: "POST", path: "/api/v1/licenses/SEN-1/contacts/" + email + "/promote", body: fmt.Sprintf(`{"role":%q}`, role)}
					case 1:
						req = request{method: "DELETE", path: "/api/v1/licenses/SEN-1/contacts/" + email + "?role=" + role}
					case 2:
						req = request{method: "POST", path: "/api/v1/licenses/SEN-1/contacts", body: fmt.Sprintf(`{"email":%q,"role":%q,"main":%v}`, email, role, rng.IntN(2) == 0)}
					}
					res := b.do(t, req)
					mu.Lock()
					statuses[res.status]++
					mu.Unlock()
					switch res.status {
					case http.StatusOK, http.StatusCreated, http.StatusNotFound, http.StatusConflict:
					default:
						t.Errorf("%s %s = %d: %s", req.method, req.path, res.status, res.body)
					}
				}
			})
		}
		wg.Wait()
		t.Logf("statuses: %v", statuses)
		if statuses[http.StatusOK]+statuses[http.StatusCreated] == 0 {
			t.Fatal("no request succeeded; the test exercised nothing")
		}

		var counts []struct {
			Role    string `db:"role"`
			Holders int    `db:"holders"`
			Mains   int    `db:"mains"`
		}
		err := db.Select(context.Background(), b.DB, &counts, `
			SELECT role, COUNT(*) AS holders, SUM(CASE WHEN is_main THEN 1 ELSE 0 END) AS mains
			FROM memberships WHERE license_id = ? GROUP BY role ORDER BY role`, "SEN-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 2 {
			t.Fatalf("roles with contacts: %+v, want both", counts)
		}
		for _, c := range counts {
			if c.Mains != 1 {
				t.Errorf("%s: %d contacts, %d mains; want exactly one main", c.Role, c.Holders, c.Mains)
			}
		}
	})
}
