package markdown

import (
	"strings"
	"testing"
)

// fill repeats unit to exactly n bytes.
func fill(unit string, n int) string {
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// paragraphs repeats a paragraph of unit, size bytes long, to n bytes.
func paragraphs(unit string, size, n int) string {
	return fill(fill(unit, size)+"\n\n", n)
}

// hostile are texts at the size limit that goldmark takes from a tenth of
// a second to seconds to render, found by experiment, with what Check
// says of them.
var hostile = []struct {
	name, text, reason string
}{
	{"UnclosedLinkDestinations", fill("[a](", MaxBytes), "destination"},
	{"UnclosedImageDestinations", fill("![a](", MaxBytes), "destination"},
	{"DestinationsWithParentheses", fill("[a](b(", MaxBytes), "destination"},
	{"DestinationsWithQuotes", fill(`[a](b"`, MaxBytes), "destination"},
	{"DestinationsOnTheNextLine", fill("[a](\n", MaxBytes), "brackets"},
	{"AngleDestinations", fill("[a](<", MaxBytes), "destination"},
	{"MixedEmphasis", fill("*a_", MaxBytes), "emphasis"},
	{"MixedEmphasisWithStrikethrough", fill("~a_", MaxBytes), "emphasis"},
	{"MixedEmphasisOverLines", fill("*a_\n", MaxBytes), "emphasis"},
	{"MixedEmphasisOverCarriageReturns", fill("*a_\r", MaxBytes), "emphasis"},
	{"EmphasisAndLinks", fill("_[a](", MaxBytes), "destination"},
	{"EmphasisInListItemsThatDoNotInterrupt", "text\n" + fill("2. *a_*a_*a_*a_\n", MaxBytes-5), "emphasis"},
	{"ShortcutReferencesOnManyLines", fill("[a]\n", MaxBytes), "brackets"},
	{"ReferenceDefinitions", fill("[a]:\n", MaxBytes), "brackets"},
	{"OpenBrackets", paragraphs("[", 256, MaxBytes), "more than"},
	{"NestedQuotes", fill(">", MaxBytes), "lists and quotes"},
	{"NestedQuotesWithSpaces", fill("> ", MaxBytes), "lists and quotes"},
	{"NestedBulletLists", fill("+ ", MaxBytes), "lists and quotes"},
	{"NestedOrderedLists", fill("1. ", MaxBytes), "lists and quotes"},
	{"NestedOrderedListsWithParentheses", fill("1) ", MaxBytes), "lists and quotes"},
	{"QuotesAndLists", fill("> > - 1. ", MaxBytes), "lists and quotes"},
	{"DeeplyIndentedList", strings.Repeat(" ", 200) + "- a\n", "indented"},
}

func TestCheck(t *testing.T) {
	t.Parallel()

	t.Run("RefusesWhatGoldmarkIsSlowOn", func(t *testing.T) {
		for _, tt := range hostile {
			t.Run(tt.name, func(t *testing.T) {
				err := Check(tt.text)
				if err == nil {
					t.Fatalf("Check accepted %q…", tt.text[:min(40, len(tt.text))])
				}
				if !strings.Contains(err.Error(), tt.reason) || !strings.HasPrefix(err.Error(), "line ") {
					t.Errorf("Check = %q, want a line and %q", err, tt.reason)
				}
			})
		}
	})

	t.Run("AcceptsOrdinaryNotes", func(t *testing.T) {
		for _, tt := range []struct{ name, text string }{
			{"Changelog", changelog(MaxBytes)},
			{"ThousandLinksInOneList", fill("- [#1234](https://github.com/acme/jira/pull/1234) fixes **boards**\n", MaxBytes)},
			{"ReferenceDefinitions", fill("[1.2.3]: https://github.com/acme/jira/compare/v1.2.2...v1.2.3\n", 20<<10)},
			{"NestedLists", "- a\n  - b\n    - c\n      - d\n        - e\n          1. f\n"},
			{"NestedQuotes", "> a\n> > b\n> > > c\n> > > - d\n"},
			{"Table", "| a | b |\n| --- | --- |\n| `x_y` | **z** |\n"},
			{"CodeBlock", "```go\nfunc main() { fmt.Println(a[0], *p, x_y) }\n```\n"},
			{"SnakeCaseIdentifiers", fill("set `max_open_files` and `log_level_default` ", 32<<10)},
			{"Empty", ""},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if err := Check(tt.text); err != nil {
					t.Errorf("Check = %v", err)
				}
			})
		}
	})

	t.Run("CountsLinkScansBeyondALine", func(t *testing.T) {
		// Destinations that end stay cheap however many there are; the
		// same number that do not is refused.
		if err := Check(fill("[a](b) ", 16<<10)); err != nil {
			t.Errorf("closed links: %v", err)
		}
		if err := Check(fill("[a](b", 16<<10)); err == nil {
			t.Error("unclosed links accepted")
		}
	})
}
