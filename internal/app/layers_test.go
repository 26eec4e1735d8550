package app_test

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// layers are herald's packages from the bottom up. A package may import
// its own layer and those below it, never one above: adapters use the
// domain, which uses infrastructure.
var layers = []struct {
	name     string
	packages []string
}{
	{"infrastructure", []string{"config", "internal/db", "internal/queue", "internal/mailer", "internal/fault", "internal/page",
		"internal/csvfile", "internal/metrics", "internal/unsubscribe"}},
	{"domain", []string{"contacts", "internal/ledger", "internal/billing", "internal/auth", "templates", "internal/kinds"}},
	{"adapters", []string{"worker", "scheduler", "internal/admin", "internal/app", "cmd/herald"}},
}

const module = "github.com/heraldhq/herald/"

func TestDependenciesPointOneWay(t *testing.T) {
	root := filepath.Join("..", "..")
	level := map[string]int{}
	for i, l := range layers {
		for _, p := range l.packages {
			level[p] = i
		}
	}
	for i, l := range layers {
		for _, p := range l.packages {
			pkg, err := build.Default.ImportDir(filepath.Join(root, p), 0)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for _, imp := range pkg.Imports {
				dep, ok := strings.CutPrefix(imp, module)
				if !ok {
					continue
				}
				at, known := level[dep]
				switch {
				case !known:
					t.Errorf("%s imports %s, which is in no layer: add it to layers", p, dep)
				case at > i:
					t.Errorf("%s (%s) imports %s (%s): dependencies point from adapters to the domain to infrastructure",
						p, l.name, dep, layers[at].name)
				}
			}
		}
	}
}
