package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/dbtest"
)

// auditEntryJSON is an audit entry as the API shows it, without its id
// and time.
type auditEntryJSON struct {
	LicenseID string `json:"license_id"`
	Action    string `json:"action"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	TokenName string `json:"token_name"`
	Via       string `json:"via"`
	Actor     string `json:"actor"`
}

type auditListJSON struct {
	Items []auditEntryJSON `json:"items"`
	Next  *string          `json:"next"`
}

// TestAuditCoversTokensAndSuppressions checks that the audit log records
// who made and revoked API tokens and who lifted suppressions, next to the
// changes to memberships, and that its filters find them.
func TestAuditCoversTokensAndSuppressions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		ops := contacts.Actor{Via: contacts.ViaCLI, Name: "ops"}
		if _, err := b.Tokens.Create(ctx, "ci", ops); err != nil {
			t.Fatal(err)
		}
		if err := b.Tokens.Revoke(ctx, "ci", ops); err != nil {
			t.Fatal(err)
		}
		if err := b.Contacts.Suppress(ctx, "ann@acme.test", contacts.Suppression{Reply: "550 no such user", Code: 550}); err != nil {
			t.Fatal(err)
		}
		b.mustDo(t, http.StatusOK, request{method: "DELETE", path: "/api/v1/suppressions/Ann@acme.test"})

		list := func(query string) []auditEntryJSON {
			t.Helper()
			return decodeInto[auditListJSON](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/audit" + query})).Items
		}
		tokens := []auditEntryJSON{
			{Action: "token_revoked", TokenName: "ci", Via: "cli", Actor: "ops"},
			{Action: "token_created", TokenName: "ci", Via: "cli", Actor: "ops"},
		}
		lift := auditEntryJSON{Action: "suppression_lifted", Email: "ann@acme.test", Via: "api", Actor: auth.EnvTokenName}
		for _, tc := range []struct {
			name, query string
			want        []auditEntryJSON
		}{
			{"ViaCLI", "?via=cli", tokens},
			{"ByEmail", "?email=ann@acme.test&via=api", []auditEntryJSON{lift, {LicenseID: "SEN-1234", Action: "added", Email: "ann@acme.test", Role: "technical", Via: "api", Actor: auth.EnvTokenName}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if diff := cmp.Diff(tc.want, list(tc.query)); diff != "" {
					t.Errorf("GET /api/v1/audit%s (-want +got):\n%s", tc.query, diff)
				}
			})
		}
		t.Run("AllNewestFirst", func(t *testing.T) {
			all := list("")
			if len(all) < 3 || !cmp.Equal(all[0], lift) || !cmp.Equal(all[1:3], tokens) {
				t.Errorf("the newest entries are not the lift and the tokens: %+v", all)
			}
		})
	})
}

// TestAuditCoversLicensesAndAnnouncements checks that a license's edits and
// what a token does to announcements are in the audit log, each saying in
// words what it changed.
func TestAuditCoversLicensesAndAnnouncements(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
		b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/licenses/SEN-1234", body: `{"status":"expired"}`})
		b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/licenses/SEN-1234", body: `{"status":"active"}`})
		b.mustDo(t, http.StatusOK, request{method: "PATCH", path: "/api/v1/licenses/SEN-1234", body: `{"status":"active"}`}) // no change
		created := b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/broadcasts",
			body: `{"subject":"Maintenance","body":"Sunday.","audience":{"roles":["technical"]}}`})
		a := decodeInto[struct {
			ID int64 `json:"id"`
		}](t, created)
		for _, action := range []string{"pause", "resume", "cancel"} {
			b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/announcements/" + strconv.FormatInt(a.ID, 10) + "/" + action})
		}
		got := decodeInto[struct {
			Items []struct {
				auditEntryJSON
				Detail string `json:"detail"`
			} `json:"items"`
		}](t, b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/audit?via=api"})).Items
		var lines []string
		for _, e := range got[:6] {
			lines = append(lines, fmt.Sprintf("%s %s %s: %s", e.Action, e.LicenseID, e.Actor, e.Detail))
		}
		subject := fmt.Sprintf("announcement %d (broadcast): Maintenance", a.ID)
		want := []string{
			"announcement_cancelled  " + auth.EnvTokenName + ": " + subject,
			"announcement_resumed  " + auth.EnvTokenName + ": " + subject,
			"announcement_paused  " + auth.EnvTokenName + ": " + subject,
			"announcement_created  " + auth.EnvTokenName + ": " + subject,
			"license_updated SEN-1234 " + auth.EnvTokenName + ": status: expired → active",
			"license_updated SEN-1234 " + auth.EnvTokenName + ": status: active → expired",
		}
		if diff := cmp.Diff(want, lines); diff != "" {
			t.Errorf("audit log (-want +got):\n%s", diff)
		}
	})
}
