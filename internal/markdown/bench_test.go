package markdown

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// hostileUnits repeated make the texts goldmark is slowest on, found by
// experiment over many patterns and random mixtures of them.
var hostileUnits = []string{
	"[a](", "![a](", "[a](b", "[a](<", "[a](b(", `[a](b"`, "[a](\n", "[a](b '\n", "[a][\n", "_[a](",
	"*a_", "*a~", "~a_", "_a*", "a*_", "**a__", "*a_\n", "*a_\r", "[", "[a]\n", "[a]:\n", "[a]: b\n",
	">", "> ", "+ ", "1. ", "> > - 1. ",
	// each line a list item, a paragraph of its own
	"- *a_*a_*a_*a_\n", "1. [a](b) *a_\n",
}

// hostileShapes build, for n, texts of n rows, uses or bytes of what
// goldmark is slow on or blows up: tables, escaped pipes in them,
// reference definitions, and code blocks that hide what would be slow
// outside them.
var hostileShapes = map[string]func(n int) string{
	"wide table, 20 columns":   func(n int) string { return wideTable(20, n) },
	"wide table, 200 columns":  func(n int) string { return wideTable(200, n) },
	"wide table, 2000 columns": func(n int) string { return wideTable(2000, n) },
	"empty aligned cells, 100 columns": func(n int) string {
		return strings.Repeat("|a", 100) + "|\n" + strings.Repeat("|:-:", 100) + "|\n" + strings.Repeat(strings.Repeat("|", 101)+"\n", n)
	},
	"one-byte cells, 8 columns": func(n int) string { return fullTable(8, 0) + strings.Repeat("|x|x|x|x|x|x|x|x|\n", n) },
	"escaped pipes in code":     func(n int) string { return "|a|\n|-|\n" + strings.Repeat("|`\\|`|\n", n) },
	"escaped pipes among code": func(n int) string {
		return "|a|\n|-|\n|`\\|`" + strings.Repeat("`a`", n) + "|\n" + strings.Repeat("|`\\|`|\n", n)
	},
	"reference of 40 KB": func(n int) string {
		return "[a]: /" + strings.Repeat("x", 40<<10) + "\n\n" + paragraphs("[a] ", 400, 4*n)
	},
	"reference of 1 KB": func(n int) string {
		return "[a]: /" + strings.Repeat("x", 1<<10) + "\n\n" + paragraphs("[a] ", 400, 4*n)
	},
	"fenced code":   func(n int) string { return "```\n" + fill("*a_[a](", n) + "\n```\n" },
	"indented code": func(n int) string { return "a\n\n" + fill("    *a_[a](\n", n) },
}

// worstAccepted returns, for each hostile unit and paragraph size, the
// most of it that Check accepts, padded with plain text to MaxBytes.
func worstAccepted() map[string]string {
	pad := func(s string) string {
		if len(s)+2 >= MaxBytes {
			return s[:min(len(s), MaxBytes)]
		}
		return s + "\n\n" + fill("plain words here ", MaxBytes-len(s)-2)
	}
	largest := func(build func(n int) string) string {
		lo, hi := 0, MaxBytes
		for hi > 0 && len(build(hi)) > 16*MaxBytes {
			hi /= 2 // a shape of rows or uses: far over the limit already
		}
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if Check(build(mid)) == nil {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		return build(lo)
	}
	out := map[string]string{}
	for name, build := range hostileShapes {
		out[name] = largest(func(n int) string { return pad(build(n)) })
	}
	for _, u := range hostileUnits {
		out[fmt.Sprintf("%q", u)] = largest(func(n int) string { return pad(fill(u, n)) })
		for _, size := range []int{256, 1024, 4096} {
			out[fmt.Sprintf("%q in paragraphs of %d", u, size)] = largest(func(n int) string { return pad(paragraphs(u, size, n)) })
		}
	}
	return out
}

// BenchmarkWorstAccepted renders the worst texts Check accepts, at the
// size limit, and an ordinary changelog of the same size, and reports the
// slowest against the changelog: worst/changelog. It also reports how
// long Check takes on the slowest to check, against the same changelog's
// render: check/changelog.
//
//	go test ./internal/markdown -run '^$' -bench WorstAccepted
func BenchmarkWorstAccepted(b *testing.B) {
	base := changelog(MaxBytes)
	inputs := worstAccepted()
	spent := map[string]time.Duration{}
	checking := map[string]time.Duration{}
	var buf bytes.Buffer
	render := func(s string) time.Duration {
		buf.Reset()
		start := time.Now()
		if err := converter.Convert([]byte(s), &buf); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for b.Loop() {
		spent[""] += render(base)
		for name, s := range inputs {
			spent[name] += render(s)
			start := time.Now()
			_ = Check(s)
			checking[name] += time.Since(start)
		}
		start := time.Now()
		_ = Check(fill("[a](", MaxBytes)) // refused at the end of the scan budget
		checking["refused"] += time.Since(start)
	}
	worst := ""
	for name, d := range spent {
		if name != "" && (worst == "" || d > spent[worst]) {
			worst = name
		}
	}
	var slowestCheck time.Duration
	for _, d := range checking {
		slowestCheck = max(slowestCheck, d)
	}
	perRun := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(float64(spent[worst])/float64(spent[""]), "worst/changelog")
	b.ReportMetric(perRun(spent[worst]), "worst-ms")
	b.ReportMetric(perRun(spent[""]), "changelog-ms")
	b.ReportMetric(float64(slowestCheck)/float64(spent[""]), "check/changelog")
	names := slices.Collect(maps.Keys(inputs))
	slices.SortFunc(names, func(x, y string) int { return cmp.Compare(spent[y], spent[x]) })
	for _, name := range names[:min(5, len(names))] {
		b.Logf("%5.1f × changelog: %s", float64(spent[name])/float64(spent[""]), name)
	}
	b.Logf("(the slowest of %d texts)", len(inputs))
}
