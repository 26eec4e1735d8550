package contacts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/contacts"
	"github.com/heraldhq/herald/internal/dbtest"
	"github.com/heraldhq/herald/internal/fault"
	"github.com/heraldhq/herald/internal/page"
)

func TestProducts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	dbtest.Each(t, func(t *testing.T, database dbtest.Database) {
		t.Run("NamedOnceThenRenamed", func(t *testing.T) {
			store, _ := newStore(t, database)
			if _, err := importCSV(t, store, sampleCSV); err != nil {
				t.Fatal(err)
			}
			p, created, err := store.PutProduct(ctx, "JIRA", "  Jira Software ")
			if err != nil || !created {
				t.Fatalf("PutProduct = %v, %v; want created", created, err)
			}
			if diff := cmp.Diff(contacts.Product{Key: "jira", Name: "Jira Software", Licenses: 2}, p); diff != "" {
				t.Errorf("product (-want +got):\n%s", diff)
			}
			if p, created, err = store.PutProduct(ctx, "jira", "Jira"); err != nil || created || p.Name != "Jira" {
				t.Fatalf("rename = %+v, %v, %v; want Jira, not created", p, created, err)
			}
			if name, err := store.ProductName(ctx, "jira"); err != nil || name != "Jira" {
				t.Errorf("ProductName(jira) = %q, %v", name, err)
			}
		})

		t.Run("UnnamedProductsAreCalledByTheirKey", func(t *testing.T) {
			store, _ := newStore(t, database)
			if _, err := importCSV(t, store, sampleCSV); err != nil {
				t.Fatal(err)
			}
			// A product may be named before its first license.
			if _, _, err := store.PutProduct(ctx, "bamboo", "Bamboo"); err != nil {
				t.Fatal(err)
			}
			p, err := store.ListProducts(ctx, page.Request{})
			if err != nil {
				t.Fatal(err)
			}
			want := []contacts.Product{{Key: "bamboo", Name: "Bamboo"}, {Key: "confluence", Licenses: 1}, {Key: "jira", Licenses: 2}}
			if diff := cmp.Diff(want, p.Items); diff != "" || p.Next != "" {
				t.Errorf("products (-want +got):\n%s\nnext %q", diff, p.Next)
			}
			if name, err := store.ProductName(ctx, "confluence"); err != nil || name != "confluence" {
				t.Errorf("ProductName(confluence) = %q, %v; want the key", name, err)
			}
			if got := want[1].DisplayName() + "/" + want[0].DisplayName(); got != "confluence/Bamboo" {
				t.Errorf("display names %s", got)
			}

			first, err := store.ListProducts(ctx, page.Request{Limit: 2})
			if err != nil || len(first.Items) != 2 || first.Next == "" {
				t.Fatalf("first page %+v, %v", first, err)
			}
			second, err := store.ListProducts(ctx, page.Request{Limit: 2, After: first.Next})
			if err != nil || len(second.Items) != 1 || second.Items[0].Key != "jira" || second.Next != "" {
				t.Fatalf("second page %+v, %v", second, err)
			}

			if _, err := store.GetProduct(ctx, "nobody"); !errors.Is(err, contacts.ErrNotFound) {
				t.Errorf("GetProduct(nobody) = %v, want not found", err)
			}
		})

		t.Run("BadInputChangesNothing", func(t *testing.T) {
			store, _ := newStore(t, database)
			for _, tc := range []struct{ key, name, field string }{
				{"", "Jira", "key"},
				{"Jira Software", "Jira", "key"},
				{"-jira", "Jira", "key"},
				{strings.Repeat("j", 65), "Jira", "key"},
				{"jira", "", "name"},
				{"jira", "   ", "name"},
				{"jira", strings.Repeat("J", 201), "name"},
				{"jira", "Jira\r\nBcc: x@evil.test", "name"},
				{"jira", "Jira\x00", "name"},
			} {
				_, _, err := store.PutProduct(ctx, tc.key, tc.name)
				if f, ok := fault.As(err); !ok || f.Kind != fault.KindInvalid || f.Field != tc.field {
					t.Errorf("PutProduct(%q, %q) = %v, want invalid %s", tc.key, tc.name, err, tc.field)
				}
			}
			if p, err := store.ListProducts(ctx, page.Request{}); err != nil || len(p.Items) != 0 {
				t.Errorf("products after bad input: %+v, %v", p.Items, err)
			}
		})

		t.Run("CSVSetsAndExportsNames", func(t *testing.T) {
			store, _ := newStore(t, database)
			res, err := importCSV(t, store, `license_id,product,license_name,email,name,role,main,product_name
SEN-1,jira,Acme Corp,ann@acme.test,Ann,technical,true,Jira Software
SEN-2,jira,Beta,bob@beta.test,Bob,technical,true,
SEN-3,confluence,Gamma,,,,,
`)
			if err != nil {
				t.Fatal(err)
			}
			if res.ProductsNamed != 1 || res.LicensesCreated != 3 {
				t.Errorf("result %+v, want 1 product named and 3 licenses", res)
			}
			if name, _ := store.ProductName(ctx, "jira"); name != "Jira Software" {
				t.Errorf("jira is called %q", name)
			}
			want := `license_id,product,license_name,email,name,role,main,product_name
SEN-1,jira,Acme Corp,ann@acme.test,Ann,technical,true,Jira Software
SEN-2,jira,Beta,bob@beta.test,Bob,technical,true,Jira Software
SEN-3,confluence,Gamma,,,,,
`
			first := export(t, store)
			if diff := cmp.Diff(want, first); diff != "" {
				t.Errorf("export (-want +got):\n%s", diff)
			}
			// The export imports back as it is.
			res, err = importCSV(t, store, first)
			if err != nil || cmp.Diff(contacts.ImportResult{Unchanged: 3}, res) != "" {
				t.Errorf("re-import = %+v, %v; want all unchanged", res, err)
			}

			// A file without the column leaves the names alone; one with
			// a new name renames the product.
			if _, err := importCSV(t, store, sampleCSV); err != nil {
				t.Fatal(err)
			}
			if name, _ := store.ProductName(ctx, "jira"); name != "Jira Software" {
				t.Errorf("an import without product_name changed jira's name to %q", name)
			}
			res, err = importCSV(t, store, "license_id,product,license_name,email,name,role,main,product_name\nSEN-2,confluence,\"Beta, Inc.\",,,,,Confluence\n")
			if err != nil || res.ProductsNamed != 1 || res.Unchanged != 1 {
				t.Errorf("naming import = %+v, %v", res, err)
			}
			if name, _ := store.ProductName(ctx, "confluence"); name != "Confluence" {
				t.Errorf("confluence is called %q", name)
			}
		})

		t.Run("CSVNamesAreChecked", func(t *testing.T) {
			store, _ := newStore(t, database)
			_, err := importCSV(t, store, `license_id,product,license_name,email,name,role,main,product_name
SEN-1,jira,Acme Corp,ann@acme.test,Ann,technical,true,Jira Software
SEN-2,jira,Beta,bob@beta.test,Bob,technical,true,Jira
SEN-3,confluence,Gamma,,,,,"Con`+"\r\n"+`fluence"
`)
			var ie *contacts.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("import = %v, want an ImportError", err)
			}
			var got []string
			for _, l := range ie.Lines {
				got = append(got, l.Message)
			}
			want := []string{`product jira is named "Jira" here but "Jira Software" on line 2`, "product_name: must not contain line breaks"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("line errors (-want +got):\n%s", diff)
			}
			if p, err := store.ListProducts(ctx, page.Request{}); err != nil || len(p.Items) != 0 {
				t.Errorf("a bad file named products: %+v, %v", p.Items, err)
			}
		})
	})
}
