package admin_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/dbtest"
)

const contactsHeader = "license_id,product,license_name,email,name,role,main\n"

// TestExportIsSafeInSpreadsheets shows the exported cells that a
// spreadsheet would run as formulas escaped with a leading ', and the
// export imported again unchanged.
func TestExportIsSafeInSpreadsheets(t *testing.T) {
	t.Parallel()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		b := setup(t, database)
		b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: `{"id":"SEN-1","product":"jira",
			"name":"=HYPERLINK(\"http://evil.test\",\"x\")","contacts":[
			{"email":"=ann@acme.test","name":"@Ann","role":"technical"},
			{"email":"-bob@acme.test","name":"-","role":"technical"},
			{"email":"+cy@acme.test","name":"'","role":"billing"},
			{"email":"'dee@acme.test","name":"''=","role":"billing"},
			{"email":"eve@acme.test","name":"Eve =1+1","role":"billing"}]}`})
		before := b.snapshot(t)

		exported := b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/contacts/export"})
		records, err := csv.NewReader(strings.NewReader(string(exported.body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		cells := map[string]bool{}
		for _, rec := range records {
			for _, cell := range rec {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("cell %q would be a formula", cell)
				}
				cells[cell] = true
			}
		}
		for _, want := range []string{
			`'=HYPERLINK("http://evil.test","x")`, "'=ann@acme.test", "'@Ann", "'-bob@acme.test", "'-",
			"'+cy@acme.test", "''", "''dee@acme.test", "'''=", "eve@acme.test", "Eve =1+1",
		} {
			if !cells[want] {
				t.Errorf("no cell %q in the export:\n%s", want, exported.body)
			}
		}

		again := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/contacts/import", body: string(exported.body), contentType: "text/csv"}).json(t)
		if again["unchanged"] != 5.0 || again["contacts_created"] != 0.0 || again["licenses_updated"] != 0.0 || again["contacts_updated"] != 0.0 {
			t.Errorf("re-import of the export = %v", again)
		}
		if after := b.snapshot(t); after != before {
			t.Errorf("importing the export changed the database:\n%s\nthen:\n%s", before, after)
		}
	})
}

// importErrorBody is the answer to a refused import.
type importErrorBody struct {
	Error struct {
		Code, Message, Field string
	}
	Lines []struct {
		Line    int
		Message string
	}
	BadLines int `json:"bad_lines"`
}

// TestErrorsDoNotAmplify sends huge values and huge files and checks that
// the answer quotes little of them. It does not run in parallel, so that
// the memory it measures is its own.
func TestErrorsDoNotAmplify(t *testing.T) {
	b := setup(t, dbtest.SQLite)
	b.mustDo(t, http.StatusCreated, request{method: "POST", path: "/api/v1/licenses", body: acme})
	before := b.snapshot(t)

	const giant = 31 << 20
	mega := strings.Repeat("x", 1_000_000)
	var badLines strings.Builder
	badLines.WriteString(contactsHeader)
	for i := range 10_000 {
		fmt.Fprintf(&badLines, "SEN-%d,jira,Customer,not-an-email-%s,N,technical,\n", i, strings.Repeat("y", 200))
	}
	for _, tc := range []struct {
		name   string
		req    request
		status int
		field  string
		lines  int // listed
		bad    int // bad_lines
		alloc  uint64
	}{
		{"GiantCSVField", request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv",
			body: contactsHeader + "SEN-2,jira," + strings.Repeat("x", giant) + ",a@acme.test,A,technical,\n"}, 400, "", 1, 1, 4 << 20},
		{"CSVOverTheLimit", request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv",
			body: contactsHeader + strings.Repeat(strings.Repeat("x", 1023)+"\n", 33<<10)}, 413, "", 0, 0, 256 << 20},
		{"TenThousandBadLines", request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv", body: badLines.String()}, 400, "", 100, 10_000, 64 << 20},
		{"MegabyteJSONValue", request{method: "POST", path: "/api/v1/licenses", body: `{"id":"` + mega + `","product":"jira","name":"N"}`}, 400, "id", 0, 0, 64 << 20},
		{"MegabyteJSONFieldName", request{method: "POST", path: "/api/v1/licenses", body: `{"` + mega + `":1}`}, 400, strings.Repeat("x", 100) + "…", 0, 0, 64 << 20},
		{"MegabyteStatus", request{method: "PUT", path: "/api/v1/invoices/INV-1", body: `{"license_id":"SEN-1234","amount_minor":1,"currency":"EUR","due_date":"2026-12-15","status":"` + mega + `"}`}, 400, "status", 0, 0, 64 << 20},
		{"LongPath", request{method: "GET", path: "/api/v1/" + strings.Repeat("p", 100_000)}, 404, "", 0, 0, 64 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var start, end runtime.MemStats
			runtime.ReadMemStats(&start)
			res := b.mustDo(t, tc.status, tc.req)
			runtime.ReadMemStats(&end)

			if len(res.body) > 64<<10 {
				t.Fatalf("the answer is %d bytes, more than 64 KiB", len(res.body))
			}
			var body importErrorBody
			if err := json.Unmarshal(res.body, &body); err != nil {
				t.Fatalf("answer is not an error object: %v", err)
			}
			// An import's message names its first five lines.
			if n := utf8.RuneCountInString(body.Error.Message); n > 1000 {
				t.Errorf("the message has %d characters: %.500s", n, body.Error.Message)
			}
			if body.Error.Field != tc.field {
				t.Errorf("field %.200q, want %q", body.Error.Field, tc.field)
			}
			for _, l := range body.Lines {
				if n := utf8.RuneCountInString(l.Message); n > 400 {
					t.Errorf("line %d: the message has %d characters: %.500s", l.Line, n, l.Message)
				}
			}
			if len(body.Lines) != tc.lines || body.BadLines != tc.bad {
				t.Errorf("%d lines listed of %d bad, want %d of %d", len(body.Lines), body.BadLines, tc.lines, tc.bad)
			}
			// The request itself is in memory already. Serving it must not
			// hold it again, let alone several times; a file is not held
			// whole at all.
			if alloc := end.TotalAlloc - start.TotalAlloc; alloc > tc.alloc {
				t.Errorf("serving the request allocated %d KiB, want at most %d", alloc>>10, tc.alloc>>10)
			}
			if after := b.snapshot(t); after != before {
				t.Errorf("the refused request changed the database")
			}
			t.Logf("%d bytes answered, %d KiB allocated: %.300s", len(res.body), (end.TotalAlloc-start.TotalAlloc)>>10, res.body)
		})
	}

	t.Run("GiantFieldIsNamed", func(t *testing.T) {
		res := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv",
			body: contactsHeader + "SEN-2,jira," + strings.Repeat("x", giant) + ",a@acme.test,A,technical,\n"})
		var body importErrorBody
		if err := json.Unmarshal(res.body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Lines) != 1 || body.Lines[0].Line != 2 || !strings.Contains(body.Lines[0].Message, "column 3 (license_name) is longer than 8 KiB") {
			t.Errorf("answer: %s", res.body)
		}
	})

	t.Run("FirstHundredLinesInOrder", func(t *testing.T) {
		res := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv", body: badLines.String()})
		var body importErrorBody
		if err := json.Unmarshal(res.body, &body); err != nil {
			t.Fatal(err)
		}
		for i, l := range body.Lines {
			if l.Line != i+2 || !strings.HasPrefix(l.Message, "email: ") {
				t.Fatalf("line %d of the list: %+v", i, l)
			}
		}
		if !strings.HasPrefix(body.Error.Message, "10000 bad line(s), nothing imported; line 2: email:") {
			t.Errorf("message %q", body.Error.Message)
		}
	})
}

// TestImportSeparators imports contacts CSV saved with ';' and with tabs,
// as spreadsheets in many locales do.
func TestImportSeparators(t *testing.T) {
	t.Parallel()
	b := setup(t, dbtest.SQLite)

	for _, tc := range []struct{ name, sep, id string }{
		{"Semicolon", ";", "SEN-1"},
		{"Tab", "\t", "SEN-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := strings.ReplaceAll(contactsHeader, ",", tc.sep) +
				strings.Join([]string{tc.id, "jira", "Acme, Inc.", "ann@acme.test", "Ann", "technical", "true"}, tc.sep) + "\r\n" +
				strings.Join([]string{tc.id, "jira", "Acme, Inc.", "bob@acme.test", "'=Bob", "billing", "true"}, tc.sep) + "\r\n"
			res := b.mustDo(t, http.StatusOK, request{method: "POST", path: "/api/v1/contacts/import", body: data, contentType: "text/csv"}).json(t)
			if res["licenses_created"] != 1.0 || res["memberships_created"] != 2.0 {
				t.Errorf("import = %v", res)
			}
			var license struct {
				Name    string
				Billing []struct{ Email, Name string } `json:"billing_contacts"`
			}
			if err := json.Unmarshal(b.mustDo(t, http.StatusOK, request{method: "GET", path: "/api/v1/licenses/" + tc.id}).body, &license); err != nil {
				t.Fatal(err)
			}
			if license.Name != "Acme, Inc." || len(license.Billing) != 1 || license.Billing[0].Name != "=Bob" {
				t.Errorf("license %+v", license)
			}
		})
	}

	t.Run("MisspeltHeaderGetsAHint", func(t *testing.T) {
		before := b.snapshot(t)
		res := b.mustDo(t, http.StatusBadRequest, request{method: "POST", path: "/api/v1/contacts/import", contentType: "text/csv",
			body: "license_id;product;licence_name;email;name;role;main\nSEN-3;jira;Acme;ann@acme.test;Ann;technical;true\n"})
		var body importErrorBody
		if err := json.Unmarshal(res.body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Lines) != 1 || body.Lines[0].Line != 1 || !strings.Contains(body.Lines[0].Message, `unknown column "licence_name" in a header separated by ';'`) {
			t.Errorf("answer: %s", res.body)
		}
		if after := b.snapshot(t); after != before {
			t.Errorf("the refused import changed the database")
		}
	})
}
