// Package browsertest drives a real, headless Chromium from tests, through
// chromedp: the pages of the contacts portal and the staff console are
// tested as a person uses them, by the accessible names of their controls.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/chromedp"
)

// RequiredEnv, set to any value, makes a missing browser fail the test
// instead of skipping it: CI sets it, so that the browser tests cannot
// silently stop running.
const RequiredEnv = "HERALD_TEST_BROWSER_REQUIRED"

// ScreenshotsEnv names a directory where Screenshot also writes its PNGs,
// for a person to look at the pages.
const ScreenshotsEnv = "HERALD_TEST_SCREENSHOTS"

// candidates are where Debian's chromium package and other installs put
// the browser.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// executable finds the browser, "" when there is none.
func executable() string {
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless browser for t, with a phone-or-laptop sized window,
// and returns the context every chromedp action runs in; the browser stops
// when the test ends. Without a browser the test is skipped (failed when
// RequiredEnv is set).
func New(t testing.TB) context.Context {
	t.Helper()
	exe := executable()
	if exe == "" {
		if os.Getenv(RequiredEnv) != "" {
			t.Fatalf("no Chromium found (looked for %v) and %s is set", candidates, RequiredEnv)
		}
		t.Skipf("no Chromium found (looked for %v): install Debian's chromium package to run the browser tests", candidates)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 900),
		// As root (CI containers) Chromium refuses to start without it.
		chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	// A test that hangs on a missing element fails, rather than the suite.
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return ctx
}

// Screenshot captures the whole page as name.png in the test's temporary
// directory and, when ScreenshotsEnv is set, in that directory too; it
// returns the path.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	// Quality 100 is chromedp's way of asking for PNG: anything less is
	// JPEG, which a file named .png would then lie about.
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	return save(t, name, png)
}

// ScreenshotWindow captures what the window shows, as Screenshot does the
// whole page. Capturing the whole page resizes it for a moment, and a page
// that redraws on resize (the charts of the queue dashboard) is caught
// half drawn.
func ScreenshotWindow(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	return save(t, name, png)
}

func save(t testing.TB, name string, png []byte) string {
	t.Helper()
	dir := t.TempDir()
	if d := os.Getenv(ScreenshotsEnv); d != "" {
		dir = d
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Named selects the element whose role is role ("button", "link",
// "textbox", "combobox"…) and whose accessible name is name, as a screen
// reader user finds a control ("Make bob@acme.test the main technical
// contact"). Use it as the option of a query:
//
//	chromedp.Click("", browsertest.Named("button", "Sign in"))
func Named(role, name string) chromedp.QueryOption {
	return chromedp.ByFunc(func(ctx context.Context, t *chromedp.Target, n *chromedp.Node) ([]cdp.NodeID, error) {
		res, err := cdp.Call(ctx, t, accessibility.QueryAXTree, accessibility.QueryAXTreeParams{
			NodeID: n.NodeID, AccessibleName: name, Role: role,
		})
		if err != nil {
			return nil, err
		}
		var backend []cdp.BackendNodeID
		for _, ax := range res.Nodes {
			if !ax.Ignored && ax.BackendDOMNodeID != 0 {
				backend = append(backend, ax.BackendDOMNodeID)
			}
		}
		if len(backend) == 0 {
			return []cdp.NodeID{}, nil
		}
		pushed, err := cdp.Call(ctx, t, dom.PushNodesByBackendIDsToFrontend, dom.PushNodesByBackendIDsToFrontendParams{BackendNodeIDs: backend})
		return pushed.NodeIDs, err
	})
}

// Click clicks the control of role named name.
func Click(role, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(role+" "+name, Named(role, name))
}

// Fill types value into the field labelled label.
func Fill(label, value string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys("textbox "+label, value, Named("textbox", label))
}
