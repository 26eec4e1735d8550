package console_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/dbtest"
)

// upload posts file to /console/import as a browser's file form does.
func (br *browser) upload(csrf, name, content string) page {
	br.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", br.base+"/console/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if br.origin != "" {
		req.Header.Set("Origin", br.origin)
	}
	return br.do(req)
}

const csvHeader = "license_id,product,license_name,email,name,role,main\n"

// TestCSV exports as a viewer, imports as an editor (all or nothing, the
// bad lines listed), and refuses the import to a viewer and to a forged
// form.
func TestCSV(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)
	ctx := context.Background()
	viewer, editor := b.browser(t), b.browser(t)
	b.signIn(t, viewer, "vic@herald.test")
	b.signIn(t, editor, "eve@herald.test")

	p := viewer.get("/console/licenses/export.csv")
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(p.body, "ACME-1,jira") || !strings.Contains(p.body, "bob@other.test") {
		t.Fatalf("export: %d %s\n%s", p.status, p.header.Get("Content-Type"), p.body)
	}

	csrf := editor.get("/console/import").csrf(t)
	bad := csvHeader + "NEW-1,jira,New,nina@new.test,Nina,technical,true\n" + "NEW-1,jira,New,not-an-address,X,technical,false\n" + "NEW-2,jira,Two,two@new.test,Two,boss,false\n"
	p = editor.upload(csrf, "bad.csv", bad)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Nothing was imported") ||
		!strings.Contains(p.body, `<td class="num">3</td>`) || !strings.Contains(p.body, `<td class="num">4</td>`) {
		t.Errorf("bad file: %d\n%s", p.status, p.body)
	}
	if _, err := b.Contacts.GetLicense(ctx, "NEW-1"); err == nil {
		t.Error("a bad file imported its good lines")
	}

	good := csvHeader + "NEW-1,jira,New,nina@new.test,Nina,technical,true\n" + "NEW-1,jira,New,ned@new.test,Ned,billing,true\n"
	p = editor.upload(csrf, "good.csv", good)
	if p.status != http.StatusOK || !strings.Contains(p.body, "Imported good.csv") {
		t.Fatalf("good file: %d\n%s", p.status, p.body)
	}
	l, err := b.Contacts.GetLicense(ctx, "NEW-1")
	if err != nil || len(l.Technical) != 1 || len(l.Billing) != 1 {
		t.Errorf("NEW-1 = %+v, %v", l, err)
	}

	vcsrf := viewer.get("/console/licenses").csrf(t)
	for _, tt := range []struct {
		name string
		br   *browser
		csrf string
	}{
		{"Viewer", viewer, vcsrf},
		{"ForgedToken", editor, "forged"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p := tt.br.upload(tt.csrf, "x.csv", csvHeader+"X-1,jira,X,x@x.test,X,technical,true\n"); p.status != http.StatusForbidden {
				t.Errorf("%d, want 403", p.status)
			}
			if _, err := b.Contacts.GetLicense(ctx, "X-1"); err == nil {
				t.Error("the refused file was imported")
			}
		})
	}
	t.Run("ForeignOrigin", func(t *testing.T) {
		editor.origin = "https://evil.test"
		defer func() { editor.origin = b.URL }()
		if p := editor.upload(csrf, "x.csv", csvHeader+"X-1,jira,X,x@x.test,X,technical,true\n"); p.status != http.StatusForbidden {
			t.Errorf("%d, want 403", p.status)
		}
	})
}
