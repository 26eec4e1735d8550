package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/internal/mailer"
)

func TestOutbox(t *testing.T) {
	t.Parallel()

	type testBundle struct {
		dir string
	}

	setup := func(t *testing.T) (*mailer.Outbox, *testBundle) {
		t.Helper()
		dir := filepath.Join(t.TempDir(), "var", "outbox") // created by NewOutbox
		outbox, err := mailer.NewOutbox(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { outbox.Close() })
		return outbox, &testBundle{dir: dir}
	}

	t.Run("WritesTheMessageAsEML", func(t *testing.T) {
		t.Parallel()
		outbox, bundle := setup(t)
		m := message("ann@acme.test")
		m.ToName = "Ann Müller"
		m.Headers = [][2]string{{"List-Unsubscribe", "<https://vendor.test/u/abc>"}}

		if err := outbox.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"release-1.ann.acme.test@vendor.test.eml"}, files(t, bundle.dir)); diff != "" {
			t.Fatalf("files in the outbox (-want +got):\n%s", diff)
		}
		msg := parse(t, readFile(t, filepath.Join(bundle.dir, "release-1.ann.acme.test@vendor.test.eml")))
		if diff := cmp.Diff(map[string]string{
			"From":             "Vendor Updates <updates@vendor.test>",
			"To":               "Ann Müller <ann@acme.test>",
			"Subject":          "Jira 1.0 is out",
			"Message-Id":       "<release-1.ann.acme.test@vendor.test>",
			"Date":             "2026-03-14T09:30:00Z",
			"List-Unsubscribe": "<https://vendor.test/u/abc>",
		}, headers(t, msg.Header)); diff != "" {
			t.Errorf("headers (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]string{"text/plain": m.Text, "text/html": m.HTML}, parts(t, msg)); diff != "" {
			t.Errorf("parts (-want +got):\n%s", diff)
		}
	})

	t.Run("TextOnlyIsOnePart", func(t *testing.T) {
		t.Parallel()
		outbox, bundle := setup(t)
		m := message("ann@acme.test")
		m.HTML = ""

		if err := outbox.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		msg := parse(t, readFile(t, filepath.Join(bundle.dir, "release-1.ann.acme.test@vendor.test.eml")))
		if diff := cmp.Diff(map[string]string{"text/plain": m.Text}, parts(t, msg)); diff != "" {
			t.Errorf("parts (-want +got):\n%s", diff)
		}
	})

	t.Run("ResendReplacesTheFile", func(t *testing.T) {
		t.Parallel()
		outbox, bundle := setup(t)
		m := message("ann@acme.test")
		if err := outbox.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		m.Subject = "Jira 1.0 is out (corrected)"
		if err := outbox.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}

		if diff := cmp.Diff([]string{"release-1.ann.acme.test@vendor.test.eml"}, files(t, bundle.dir)); diff != "" {
			t.Fatalf("files in the outbox (-want +got):\n%s", diff)
		}
		msg := parse(t, readFile(t, filepath.Join(bundle.dir, "release-1.ann.acme.test@vendor.test.eml")))
		if got := msg.Header.Get("Subject"); got != m.Subject {
			t.Errorf("Subject %q, want %q", got, m.Subject)
		}
	})

	t.Run("ConcurrentWrites", func(t *testing.T) {
		t.Parallel()
		outbox, bundle := setup(t)

		var wg sync.WaitGroup
		errs := make([]error, 50)
		var want []string
		for i := range 50 {
			m := message(fmt.Sprintf("p%02d@acme.test", i))
			want = append(want, m.MessageID+".eml")
			wg.Go(func() { errs[i] = outbox.Send(context.Background(), m) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}

		got := files(t, bundle.dir)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("files in the outbox (-want +got):\n%s", diff)
		}
		for _, name := range got {
			msg := parse(t, readFile(t, filepath.Join(bundle.dir, name)))
			if id := msg.Header.Get("Message-Id"); id != "<"+strings.TrimSuffix(name, ".eml")+">" {
				t.Errorf("%s holds Message-Id %s", name, id)
			}
		}
	})

	t.Run("MessageIDCannotEscapeTheDirectory", func(t *testing.T) {
		t.Parallel()
		outbox, bundle := setup(t)
		root := filepath.Dir(filepath.Dir(bundle.dir))
		ids := []string{"../../escaped@x.test", "..", "../..", "/tmp/abs@x.test", `..\..\win@x.test`, "a/b/c@x.test", "\x00nul@x.test", ""}

		for _, id := range ids {
			m := message("ann@acme.test")
			m.MessageID = id
			if err := outbox.Send(context.Background(), m); err != nil {
				t.Errorf("Message-ID %q: %v", id, err)
			}
		}

		// Everything under the temporary root is the outbox or one of its
		// files: nothing landed beside or above it.
		var outside []string
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path == root || path == filepath.Dir(bundle.dir) || path == bundle.dir {
				return nil
			}
			if filepath.Dir(path) != bundle.dir || d.IsDir() {
				outside = append(outside, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(outside) > 0 {
			t.Errorf("written outside the outbox: %q", outside)
		}
		if got := len(files(t, bundle.dir)); got != len(ids) {
			t.Errorf("%d files in the outbox for %d distinct Message-IDs: %q", got, len(ids), files(t, bundle.dir))
		}
	})

	t.Run("FailedWriteLeavesNoTemporaryFile", func(t *testing.T) {
		t.Parallel()
		outbox, bundle := setup(t)
		m := message("ann@acme.test")
		// A directory where the file goes makes the rename fail.
		if err := os.Mkdir(filepath.Join(bundle.dir, m.MessageID+".eml"), 0o755); err != nil {
			t.Fatal(err)
		}

		err := outbox.Send(context.Background(), m)
		if diff := cmp.Diff(classified{Temporary: true}, classify(err)); diff != "" {
			t.Errorf("Classify (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{m.MessageID + ".eml"}, entries(t, bundle.dir)); diff != "" {
			t.Errorf("entries in the outbox (-want +got):\n%s", diff)
		}
	})

	t.Run("CancelledContextWritesNothing", func(t *testing.T) {
		t.Parallel()
		outbox, bundle := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()

		err := outbox.Send(ctx, message("ann@acme.test"))
		if !errors.Is(err, context.Canceled) || !mailer.Classify(err).Temporary {
			t.Errorf("error %v, want a temporary context.Canceled", err)
		}
		if got := entries(t, bundle.dir); len(got) != 0 {
			t.Errorf("outbox holds %q, want nothing", got)
		}
	})

	t.Run("BadRecipientIsPermanent", func(t *testing.T) {
		t.Parallel()
		outbox, bundle := setup(t)

		err := outbox.Send(context.Background(), message("not an address"))
		if diff := cmp.Diff(classified{}, classify(err)); diff != "" {
			t.Errorf("Classify (-want +got):\n%s", diff)
		}
		if got := entries(t, bundle.dir); len(got) != 0 {
			t.Errorf("outbox holds %q, want nothing", got)
		}
	})
}

// files lists the regular files in dir, sorted; temporary files count too,
// so that a test sees any left behind.
func files(t *testing.T, dir string) []string {
	t.Helper()
	return list(t, dir, func(de os.DirEntry) bool { return de.Type().IsRegular() })
}

// entries lists everything in dir, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	return list(t, dir, func(os.DirEntry) bool { return true })
}

// list lists the entries of dir that keep selects, sorted.
func list(t *testing.T, dir string, keep func(os.DirEntry) bool) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		if keep(de) {
			names = append(names, de.Name())
		}
	}
	return names
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
