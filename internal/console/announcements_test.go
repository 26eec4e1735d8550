package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/kinds"
	"github.com/heraldhq/herald/internal/ledger"
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
	if p.status != http.StatusOK || !strings.Contains(p.body, "staff_sign_in") || !strings.Contains(p.body, `<progress class="big"`) ||
		!strings.Contains(p.body, `<span class="status status-resolving" data-progress-status>resolving</span>`) {
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
	if strings.Contains(p.body, "Pause</button>") {
		t.Error("a viewer is shown the buttons")
	}

	// The buttons: refused to a viewer and to a forged form; an editor's
	// pause, resume and cancel change the status.
	ctx := context.Background()
	base := fmt.Sprintf("/console/announcements/%d", a.ID)
	status := func() ledger.Status {
		got, err := b.Ledger.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}
	before := status()
	for _, action := range []string{"pause", "resume", "cancel", "retry-failed"} {
		if p := br.submit(base, base+"/"+action, nil); p.status != http.StatusForbidden {
			t.Errorf("viewer %s: %d, want 403", action, p.status)
		}
	}
	editor := b.browser(t)
	b.signIn(t, editor, "eve@herald.test")
	if p := editor.post(base+"/pause", url.Values{"csrf": {"forged"}}); p.status != http.StatusForbidden {
		t.Errorf("forged pause: %d, want 403", p.status)
	}
	if got := status(); got != before {
		t.Fatalf("a refused button changed the status: %s, was %s", got, before)
	}
	for _, step := range []struct {
		action string
		want   ledger.Status
	}{
		{"pause", ledger.Paused}, {"resume", before}, {"cancel", ledger.Cancelled},
	} {
		p := editor.submit(base, base+"/"+step.action, nil)
		if p.status != http.StatusSeeOther || status() != step.want {
			t.Errorf("%s: %d, status %s, want %s", step.action, p.status, status(), step.want)
		}
	}
	// Pausing what is cancelled is refused, and the page says why.
	editor.submit(base, base+"/pause", nil)
	if p := editor.get(base); !strings.Contains(p.body, `class="flash error"`) || status() != ledger.Cancelled {
		t.Errorf("pausing a cancelled announcement:\n%s", p.body)
	}
	// Each change is audited under the editor, naming the announcement;
	// the refused pause is not.
	log, err := b.Contacts.ListAudit(ctx, contacts.AuditFilter{Via: contacts.ViaConsole})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log.Items {
		got = append(got, fmt.Sprintf("%s by %s: %s", e.Action, e.By.Name, e.Detail))
	}
	detail := fmt.Sprintf("announcement %d (staff_sign_in): Your console sign-in link", a.ID)
	want := []string{"announcement_cancelled by eve@herald.test: " + detail, "announcement_resumed by eve@herald.test: " + detail,
		"announcement_paused by eve@herald.test: " + detail + " · paused in the console"}
	if !slices.Equal(got, want) {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
