package admin

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/heraldhq/herald/internal/kinds"
)

// loadOpenAPI parses and validates the embedded OpenAPI document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	return doc
}

func TestOpenAPI(t *testing.T) {
	t.Run("KindsAreTheRegistrys", func(t *testing.T) {
		reg, err := kinds.New(kinds.Deps{From: "Vendor <news@vendor.test>"})
		if err != nil {
			t.Fatal(err)
		}
		served, err := openAPIFor(reg.Names())
		if err != nil {
			t.Fatal(err)
		}
		doc, err := openapi3.NewLoader().LoadFromData(served)
		if err != nil {
			t.Fatalf("load the served document: %v", err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Fatalf("the served document is not valid: %v", err)
		}
		var got []string
		for _, v := range doc.Components.Schemas["AnnouncementKind"].Value.Enum {
			got = append(got, fmt.Sprint(v))
		}
		if want := []string{"broadcast", "contact_change", "invoice_reminder", "release", "sign_in", "staff_sign_in"}; !slices.Equal(got, want) {
			t.Errorf("AnnouncementKind = %v, want %v", got, want)
		}
	})

	t.Run("DocumentIsValid", func(t *testing.T) {
		doc := loadOpenAPI(t)
		if doc.OpenAPI != "3.0.3" {
			t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
		}
	})

	t.Run("EveryRouteIsDocumented", func(t *testing.T) {
		doc := loadOpenAPI(t)
		for _, rt := range routes {
			item := doc.Paths.Find(rt.pattern)
			if item == nil {
				t.Errorf("%s %s: path missing from openapi.json", rt.method, rt.pattern)
				continue
			}
			op := item.GetOperation(rt.method)
			if op == nil {
				t.Errorf("%s %s: operation missing from openapi.json", rt.method, rt.pattern)
				continue
			}
			// Public routes must opt out of the global bearer requirement;
			// the others must not.
			public := op.Security != nil && len(*op.Security) == 0
			if public != rt.public {
				t.Errorf("%s %s: documented public = %v, route table says %v", rt.method, rt.pattern, public, rt.public)
			}
		}
	})

	// The query parameters a route accepts (queryOf) are those documented:
	// the server refuses every other, so an undocumented one would be a
	// parameter nobody can use.
	t.Run("QueryParametersAreDocumented", func(t *testing.T) {
		doc := loadOpenAPI(t)
		for _, rt := range routes {
			item := doc.Paths.Find(rt.pattern)
			if item == nil || item.GetOperation(rt.method) == nil {
				continue // EveryRouteIsDocumented says so
			}
			var documented []string
			for _, params := range []openapi3.Parameters{item.Parameters, item.GetOperation(rt.method).Parameters} {
				for _, p := range params {
					if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
						documented = append(documented, p.Value.Name)
					}
				}
			}
			accepted := slices.Clone(queryOf[rt.method+" "+rt.pattern])
			slices.Sort(documented)
			slices.Sort(accepted)
			if !slices.Equal(documented, accepted) {
				t.Errorf("%s %s: documents query parameters %v, accepts %v", rt.method, rt.pattern, documented, accepted)
			}
		}
		for key := range queryOf {
			if !slices.ContainsFunc(routes, func(rt route) bool { return rt.method+" "+rt.pattern == key }) {
				t.Errorf("queryOf names %q, which is not in the route table", key)
			}
		}
	})

	t.Run("EveryOperationIsRouted", func(t *testing.T) {
		doc := loadOpenAPI(t)
		for _, path := range doc.Paths.InMatchingOrder() {
			for method := range doc.Paths.Value(path).Operations() {
				if !slices.ContainsFunc(routes, func(rt route) bool {
					return rt.method == method && rt.pattern == path
				}) {
					t.Errorf("%s %s: documented in openapi.json but not in the route table", method, path)
				}
			}
		}
	})

	t.Run("SecuritySchemeIsBearer", func(t *testing.T) {
		doc := loadOpenAPI(t)
		scheme := doc.Components.SecuritySchemes["bearerAuth"]
		if scheme == nil || scheme.Value == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != "bearer" {
			t.Fatalf("components.securitySchemes.bearerAuth is not an HTTP bearer scheme")
		}
		if len(doc.Security) != 1 {
			t.Fatalf("global security = %v, want bearerAuth", doc.Security)
		}
		if _, ok := doc.Security[0]["bearerAuth"]; !ok {
			t.Fatalf("global security = %v, want bearerAuth", doc.Security)
		}
	})

	t.Run("ServedAsJSON", func(t *testing.T) {
		var s Server
		rec := &headerOnly{header: http.Header{}}
		if err := s.openAPI(rec, nil); err != nil {
			t.Fatalf("openAPI: %v", err)
		}
		if got := rec.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", got)
		}
	})
}
