package contacts_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
)

const sampleCSV = `license_id,product,license_name,email,name,role,main
SEN-1,jira,Acme Corp,ann@acme.test,Ann,technical,true
SEN-1,jira,Acme Corp,bob@acme.test,Bob,technical,false
SEN-1,jira,Acme Corp,bob@acme.test,Bob,billing,
SEN-2,confluence,"Beta, Inc.",ann@acme.test,Ann,technical,false
SEN-2,confluence,"Beta, Inc.",cy@beta.test,Cy,technical,true
SEN-3,jira,Gamma,,,,
`

func export(t *testing.T, store *contacts.Store) string {
	t.Helper()
	var buf bytes.Buffer
	cw := contacts.NewCSVWriter(&buf)
	if err := store.Export(context.Background(), cw.Write); err != nil {
		t.Fatal(err)
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func importCSV(t *testing.T, store *contacts.Store, data string) (contacts.ImportResult, error) {
	t.Helper()
	rows, err := contacts.ReadCSV(strings.NewReader(data))
	if err != nil {
		return contacts.ImportResult{}, err
	}
	return store.Import(context.Background(), staff, rows)
}

func TestImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("CreatesEverythingAndCounts", func(t *testing.T) {
			store, _ := newStore(t, database)
			res, err := importCSV(t, store, sampleCSV)
			if err != nil {
				t.Fatal(err)
			}
			want := contacts.ImportResult{LicensesCreated: 3, ContactsCreated: 3, MembershipsCreated: 5}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			l, err := store.GetLicense(ctx, "SEN-2")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]contacts.Member{{Email: "cy@beta.test", Name: "Cy", Main: true}, {Email: "ann@acme.test", Name: "Ann"}}, l.Technical, ignoreAddedAt); diff != "" {
				t.Errorf("SEN-2 technical (-want +got):\n%s", diff)
			}
			if l.Name != "Beta, Inc." || l.Product != "confluence" {
				t.Errorf("SEN-2 = %+v", l)
			}
		})

		t.Run("ExportRoundTripsUnchanged", func(t *testing.T) {
			store, _ := newStore(t, database)
			if _, err := importCSV(t, store, sampleCSV); err != nil {
				t.Fatal(err)
			}
			first := export(t, store)
			res, err := importCSV(t, store, first)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(contacts.ImportResult{Unchanged: 6}, res); diff != "" {
				t.Errorf("re-import (-want +got):\n%s", diff)
			}
			if second := export(t, store); second != first {
				t.Errorf("export changed after re-import:\n%s\nthen:\n%s", first, second)
			}

			// Into an empty database, the export rebuilds the same state.
			other, _ := newStore(t, database)
			if _, err := importCSV(t, other, first); err != nil {
				t.Fatal(err)
			}
			if got := export(t, other); got != first {
				t.Errorf("export of a fresh import:\n%s\nwant:\n%s", got, first)
			}
		})

		t.Run("MainTruePromotesAndNamesUpdate", func(t *testing.T) {
			store, _ := newStore(t, database)
			if _, err := importCSV(t, store, sampleCSV); err != nil {
				t.Fatal(err)
			}
			res, err := importCSV(t, store, `license_id,product,license_name,email,name,role,main
SEN-1,jira,Acme Corporation,bob@acme.test,Robert,technical,true
`)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(contacts.ImportResult{LicensesUpdated: 1, ContactsUpdated: 1, MembershipsUpdated: 1}, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			l, err := store.GetLicense(ctx, "SEN-1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]contacts.Member{{Email: "bob@acme.test", Name: "Robert", Main: true}, {Email: "ann@acme.test", Name: "Ann"}}, l.Technical, ignoreAddedAt); diff != "" {
				t.Errorf("technical (-want +got):\n%s", diff)
			}
			if l.Name != "Acme Corporation" {
				t.Errorf("name = %q", l.Name)
			}
		})

		t.Run("AppliesTheRulesRowByRow", func(t *testing.T) {
			// Rows are applied in groups; within and across groups the
			// result is what applying them one at a time gives: a person
			// named twice takes the last name, a main=true row demotes the
			// main it replaces, and the audit log names it.
			store, _ := newStore(t, database)
			if _, err := importCSV(t, store, sampleCSV); err != nil {
				t.Fatal(err)
			}
			res, err := importCSV(t, store, `license_id,product,license_name,email,name,role,main
SEN-1,jira,Acme Corp,dee@acme.test,Dee,technical,true
SEN-1,jira,Acme Corp,bob@acme.test,Bob,billing,
SEN-4,jira,Delta,eve@delta.test,Eve,billing,
SEN-4,jira,Delta,fay@delta.test,Fay,billing,
SEN-5,jira,Epsilon,eve@delta.test,Evelyn,technical,
SEN-5,jira,Epsilon,bob@acme.test,Robert,technical,true
`)
			if err != nil {
				t.Fatal(err)
			}
			want := contacts.ImportResult{LicensesCreated: 2, ContactsCreated: 3, ContactsUpdated: 2, MembershipsCreated: 5, Unchanged: 1}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			l, err := store.GetLicense(ctx, "SEN-1")
			if err != nil {
				t.Fatal(err)
			}
			wantTech := []contacts.Member{{Email: "dee@acme.test", Name: "Dee", Main: true}, {Email: "ann@acme.test", Name: "Ann"}, {Email: "bob@acme.test", Name: "Robert"}}
			if diff := cmp.Diff(wantTech, l.Technical, ignoreAddedAt); diff != "" {
				t.Errorf("SEN-1 technical (-want +got):\n%s", diff)
			}
			l, err = store.GetLicense(ctx, "SEN-4")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]contacts.Member{{Email: "eve@delta.test", Name: "Evelyn", Main: true}, {Email: "fay@delta.test", Name: "Fay"}}, l.Billing, ignoreAddedAt); diff != "" {
				t.Errorf("SEN-4 billing (-want +got):\n%s", diff)
			}
			log, err := store.ListAudit(ctx, contacts.AuditFilter{LicenseID: "SEN-1"})
			if err != nil {
				t.Fatal(err)
			}
			dee := log.Items[0]
			if dee.Email != "dee@acme.test" || dee.Action != contacts.Added || !dee.Main || dee.PreviousMain != "ann@acme.test" || dee.By != staff {
				t.Errorf("newest SEN-1 entry = %+v, want dee added as main in ann's place by %v", dee, staff)
			}
		})

		t.Run("BadLinesAreAllReportedAndNothingIsApplied", func(t *testing.T) {
			store, _ := newStore(t, database)
			_, err := importCSV(t, store, `license_id,product,license_name,email,name,role,main
SEN-1,jira,Acme,ann@acme.test,Ann,technical,true
SEN-1,jira,Acme,not-an-email,X,technical,false
SEN-1,jira,Acme,bob@acme.test,"Bob`+"\r\n"+`Bcc: x@evil.test",technical,false
SEN-1,jira,Acme,cy@acme.test,Cy,owner,false
SEN-1,jira,Acme,ann@acme.test,Ann,technical,false
SEN-1,jira,Other name,dee@acme.test,Dee,billing,maybe
SEN 2,jira,Acme,dee@acme.test,Dee,billing,true
SEN-1,jira,Acme,eve@acme.test,Eve,technical,true
too,few,fields
`)
			var ie *contacts.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("import = %v, want an ImportError", err)
			}
			var lines []int
			for _, l := range ie.Lines {
				lines = append(lines, l.Line)
			}
			// Line 4 holds a quoted CRLF, so its record spans lines 4-5 and
			// the lines after it are one further down.
			if diff := cmp.Diff([]int{3, 4, 6, 7, 8, 9, 10, 11}, lines); diff != "" {
				t.Errorf("bad lines (-want +got):\n%s\n%+v", diff, ie.Lines)
			}
			if got := export(t, store); got != strings.Join(contacts.CSVHeader, ",")+"\n" {
				t.Errorf("something was imported:\n%s", got)
			}
		})

		t.Run("HeaderProblems", func(t *testing.T) {
			for name, data := range map[string]string{
				"Empty":         "",
				"UnknownColumn": "license_id,product,license_name,email,name,role,main,extra\n",
				"MissingColumn": "license_id,product,license_name,email,name,role\n",
			} {
				t.Run(name, func(t *testing.T) {
					_, err := contacts.ReadCSV(strings.NewReader(data))
					var ie *contacts.ImportError
					if !errors.As(err, &ie) || len(ie.Lines) != 1 || ie.Lines[0].Line != 1 {
						t.Fatalf("ReadCSV = %v, want one error on line 1", err)
					}
				})
			}
		})

		t.Run("ColumnsInAnyOrder", func(t *testing.T) {
			rows, err := contacts.ReadCSV(strings.NewReader("\uFEFFemail,role,main,name,license_id,product,license_name\nA@acme.test,billing,TRUE,Ann,SEN-1,Jira,Acme\n"))
			if err != nil {
				t.Fatal(err)
			}
			want := []contacts.Row{{Line: 2, LicenseID: "SEN-1", Product: "jira", LicenseName: "Acme", Email: "a@acme.test", Name: "Ann", Role: contacts.Billing, Main: true}}
			if diff := cmp.Diff(want, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	})
}
