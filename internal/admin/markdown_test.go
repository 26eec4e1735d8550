package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/db"
	"github.com/heraldhq/herald/internal/dbtest"
)

// repeat repeats unit to exactly n bytes.
func repeat(unit string, n int) string {
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// staircase is a list nested n deep, each item two columns further in.
func staircase(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat("  ", i) + "- a\n")
	}
	return b.String()
}

// TestHostileMarkdown sends release notes and broadcast bodies that would
// stall goldmark, or are over the size limit, through every request that
// takes them: each is refused naming the field, and nothing is stored or
// sent.
func TestHostileMarkdown(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.customers(t)
		b.startWorkers(t)

		const limit = 64 << 10
		texts := []struct {
			name, text string
			status     int
			code       string
		}{
			{"OverTheLimit", repeat("All good. ", limit+1), http.StatusRequestEntityTooLarge, "too_large"},
			{"UnclosedLinkDestinations", repeat("[a](", limit), http.StatusBadRequest, "invalid"},
			{"UnclosedDestinationsWithParentheses", repeat("[a](b(", 32<<10), http.StatusBadRequest, "invalid"},
			{"MixedEmphasis", repeat("*a_", limit), http.StatusBadRequest, "invalid"},
			{"MixedEmphasisAndStrikethrough", repeat("~a_\n", 32<<10), http.StatusBadRequest, "invalid"},
			{"ShortcutReferencesOnManyLines", repeat("[a]\n", limit), http.StatusBadRequest, "invalid"},
			{"NestedQuotes", repeat(">", limit), http.StatusBadRequest, "invalid"},
			{"NestedLists", repeat("1. ", 1<<10), http.StatusBadRequest, "invalid"},
			{"DeeplyIndentedList", staircase(101), http.StatusBadRequest, "invalid"},
			// 2,000 columns over 2,000 one-word rows: 40 MB of HTML.
			{"WideTable", strings.Repeat("|a", 2000) + "|\n" + strings.Repeat("|-", 2000) + "|\n" + strings.Repeat("x\n", 2000), http.StatusBadRequest, "invalid"},
			// A 40 KB link destination repeated by 6,000 "[a]": 240 MB.
			{"RepeatedReferenceDefinition", "[a]: https://example.com/" + strings.Repeat("x", 40000) + "\n\n" + strings.Repeat(strings.Repeat("[a] ", 100)+"\n\n", 60), http.StatusBadRequest, "invalid"},
		}
		endpoints := []struct {
			name, path, field string
			body              func(text string) map[string]any
		}{
			{"Release", "/api/v1/releases", "notes", func(text string) map[string]any {
				return map[string]any{"product": "jira", "version": "9.4.1", "notes": text}
			}},
			{"Broadcast", "/api/v1/broadcasts", "body", func(text string) map[string]any {
				return map[string]any{"subject": "News", "body": text}
			}},
			{"BroadcastDryRun", "/api/v1/broadcasts", "body", func(text string) map[string]any {
				return map[string]any{"subject": "News", "body": text, "dry_run": true}
			}},
			{"BroadcastTest", "/api/v1/broadcasts/test", "body", func(text string) map[string]any {
				return map[string]any{"subject": "News", "body": text, "to": []string{"staff@vendor.test"}}
			}},
		}
		for _, ep := range endpoints {
			for _, tc := range texts {
				t.Run(ep.name+"/"+tc.name, func(t *testing.T) {
					body, err := json.Marshal(ep.body(tc.text))
					if err != nil {
						t.Fatal(err)
					}
					res := b.mustDo(t, tc.status, request{method: "POST", path: ep.path, body: string(body)})
					if code, field := res.apiError(t); code != tc.code || field != ep.field {
						t.Errorf("error code %q field %q, want %q %q: %.300s", code, field, tc.code, ep.field, res.body)
					}
				})
			}
		}

		var stored int
		if err := db.Get(context.Background(), b.DB, &stored, `SELECT (SELECT COUNT(*) FROM announcements) + (SELECT COUNT(*) FROM releases)`); err != nil || stored != 0 {
			t.Errorf("refused requests stored %d announcements and releases (%v)", stored, err)
		}
		if n := len(b.SMTP.Messages()); n != 0 {
			t.Errorf("refused requests sent %d messages", n)
		}

		t.Run("OrdinaryNotesAtTheLimitAreAccepted", func(t *testing.T) {
			var notes strings.Builder
			notes.WriteString("## What's new\n\n| Area | Change |\n| --- | --- |\n| Boards | *faster* |\n\n```sh\n./upgrade.sh --backup /var/backups/*.tar.gz\n```\n\n")
			for i := 0; notes.Len() < limit-200; i++ {
				notes.WriteString(fmt.Sprintf("- **Fixed** [JRA-%d](https://jira.example.com/browse/JRA-%d)", i, i) + ": boards no longer freeze with `500` issues\n")
			}
			body, err := json.Marshal(map[string]any{"product": "jira", "version": "9.4.2", "notes": notes.String()})
			if err != nil {
				t.Fatal(err)
			}
			b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: string(body)})
		})

		t.Run("CodeAtTheLimitIsAccepted", func(t *testing.T) {
			// Code holds underscores, stars and brackets by the thousand;
			// goldmark parses no emphasis or links in it.
			notes := "## Migration\n\n```python\n" + repeat("def get_user_profile_1(self, *args, **kwargs): return self._cache_lookup(user_id=args[0], default_value=None)\n", limit-100) + "\n```\n"
			body, err := json.Marshal(map[string]any{"product": "jira", "version": "9.4.3", "notes": notes})
			if err != nil {
				t.Fatal(err)
			}
			b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/releases", body: string(body)})
		})
	})
}
