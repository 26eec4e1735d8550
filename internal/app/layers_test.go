package app_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// layers are herald's packages from the bottom up. A package may import
// its own layer and those below it, never one above: adapters use the
// domain, which uses infrastructure; the test helpers use anything, and
// only tests use them.
var layers = []struct {
	name     string
	packages []string
}{
	{"infrastructure", []string{"config", "internal/db", "internal/queue", "internal/mailer", "internal/fault", "internal/page",
		"internal/csvfile", "internal/metrics", "internal/buildinfo", "internal/unsubscribe", "internal/relay", "internal/markdown",
		"internal/redact", "internal/keys", "internal/web", "internal/bounce"}},
	{"domain", []string{"contacts", "internal/ledger", "internal/billing", "internal/auth", "templates", "internal/kinds", "internal/staff"}},
	{"adapters", []string{"worker", "scheduler", "internal/admin", "internal/portal", "internal/console", "internal/inbound", "internal/app", "cmd/herald"}},
	{"test helpers", []string{"internal/dbtest", "internal/queuetest", "internal/smtptest", "internal/apptest", "internal/pagetest", "internal/browsertest"}},
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
	for _, p := range packages(t, root) {
		at, ok := level[p]
		if !ok {
			t.Errorf("package %s is in no layer: add it to layers", p)
			continue
		}
		pkg, err := build.Default.ImportDir(filepath.Join(root, p), 0)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, imp := range pkg.Imports {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if depAt, known := level[dep]; known && depAt > at {
				t.Errorf("%s (%s) imports %s (%s): dependencies point from adapters to the domain to infrastructure",
					p, layers[at].name, dep, layers[depAt].name)
			}
		}
	}
}

// packages lists the directories of the module that hold a package other
// than tests.
func packages(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		if _, err := build.Default.ImportDir(path, 0); err != nil {
			return nil // no Go files, or only tests
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
