package markdown

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// hostileUnits repeated make the texts goldmark is slowest on, found by
// experiment over many patterns and random mixtures of them.
var hostileUnits = []string{
	"[a](", "![a](", "[a](b", "[a](<", "[a](b(", `[a](b"`, "[a](\n", "[a](b '\n", "[a][\n", "_[a](",
	"*a_", "*a~", "~a_", "_a*", "a*_", "**a__", "*a_\n", "*a_\r", "[", "[a]\n", "[a]:\n", "[a]: b\n",
	">", "> ", "+ ", "1. ", "> > - 1. ",
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
	b.Logf("slowest accepted: %s (of %d texts)", worst, len(inputs))
}
