package console_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
)

// TestAnnouncements lists an announcement and shows its page, with its
// progress, to a viewer.
func TestAnnouncements(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	a, _, err := b.Ledger.Announce(context.Background(), kinds.StaffSignInAnnouncement("ada@herald.test", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	br := b.browser(t)
	b.signIn(t, br, "vic@herald.test")
	p := br.get("/console/announcements")
	href := fmt.Sprintf(`href="/console/announcements/%d"`, a.ID)
	if p.status != http.StatusOK || !strings.Contains(p.body, href) || !strings.Contains(p.body, "Your console sign-in link") || !strings.Contains(p.body, "<progress") {
		t.Fatalf("list: %d\n%s", p.status, p.body)
	}
	p = br.get(fmt.Sprintf("/console/announcements/%d", a.ID))
	if p.status != http.StatusOK || !strings.Contains(p.body, "staff_sign_in") || !strings.Contains(p.body, `<progress class="big"`) {
		t.Fatalf("page: %d\n%s", p.status, p.body)
	}
	for _, path := range []string{"/console/announcements/999", "/console/announcements/x", "/console/announcements/-1"} {
		if p := br.get(path); p.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, p.status)
		}
	}
	if p := br.get("/console/announcements?after=garbage"); p.status != http.StatusBadRequest {
		t.Errorf("bad cursor: %d, want 400", p.status)
	}
}
