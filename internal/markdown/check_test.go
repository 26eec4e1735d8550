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
	{"DeeplyIndentedList", staircase(101), "indented"},
	// Every short row is padded to the header's 2,000 columns: 40 MB of
	// HTML from 12 KB.
	{"WideTableOfShortRows", wideTable(2000, 2000), "a table of 2000 columns and 2001 rows"},
	{"WideTableAtTheLimit", wideTable(2000, 30000)[:MaxBytes], "columns"},
	{"WideTableInAQuote", "> " + wideTable(1000, 200), "a table of 1000 columns"},
	{"WideTableInAListItem", "- " + strings.ReplaceAll(wideTable(1000, 200), "\n", "\n  "), "a table of 1000 columns"},
	{"WideTableAfterAHeading", "|a|\n|-|\n# b\n" + wideTable(1000, 200), "columns"},
	{"ManyTables", strings.Repeat(wideTable(100, 100)+"\n", 10), "columns"},
	{"EscapedPipesInCodeInCells", "|a|\n|-|\n" + fill("|`\\|`|\n", MaxBytes-8), "escaped pipes"},
	// Text Check must not take for code, though it looks like some.
	{"FenceInAListItemThenText", "- a\n\n  ```\n\n" + fill("*a_", 32<<10) + "\n", "emphasis"},
	{"FenceClosedThenFenceLikeLine", "- a\n# b\n  ```\n\nx\n```\n" + fill("*a_", 32<<10) + "\n", "emphasis"},
	{"FenceInAnHTMLComment", "<!--\n\n```\n\n-->\n\n" + fill("*a_", 32<<10) + "\n\n```\n", "emphasis"},
	{"FenceInAnHTMLBlock", "<div>\n```\n\n" + fill("*a_", 32<<10) + "\n", "emphasis"},
	{"FenceAfterACarriageReturn", "a\r```\n" + fill("*a_", 32<<10) + "\n", "emphasis"},
	{"IndentedTextInAListItem", "- a\n\n    " + fill("*a_", 32<<10) + "\n", "emphasis"},
	{"IndentedTextAfterAParagraph", "a\n    " + fill("*a_", 32<<10) + "\n", "emphasis"},
	{"IndentedLinesInAList", "- a\n\n" + fill("    *a_*a_*a_\n", 32<<10), "emphasis"},
	// One long definition repeated by every "[a]": 240 MB of HTML.
	{"LongReferenceDefinitionUsedOften", "[a]: https://example.com/" + strings.Repeat("x", 40000) + "\n\n" + strings.Repeat(strings.Repeat("[a] ", 100)+"\n\n", 60), "definition of 40"},
	{"LongReferenceTitleOnTheNextLine", "[a]: /u\n'" + strings.Repeat("x", 40000) + "'\n\n" + strings.Repeat(strings.Repeat("[a] ", 100)+"\n\n", 60), "definition"},
	{"ReferenceDestinationOnTheNextLine", "[a]:\nhttps://example.com/" + strings.Repeat("x", 40000) + "\n\n" + strings.Repeat(strings.Repeat("[a] ", 100)+"\n\n", 60), "definition"},
}

// staircase is a list nested n deep, each item two columns further in.
func staircase(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat("  ", i) + "- a\n")
	}
	return b.String()
}

// wideTable is a table of cols columns and rows rows of one short cell.
func wideTable(cols, rows int) string {
	return strings.Repeat("|a", cols) + "|\n" + strings.Repeat("|-", cols) + "|\n" + strings.Repeat("x\n", rows)
}

// fullTable is a table of cols columns and rows full rows.
func fullTable(cols, rows int) string {
	return strings.Repeat("| Head ", cols) + "|\n" + strings.Repeat("|:---:", cols) + "|\n" + strings.Repeat(strings.Repeat("| 1.2 ", cols)+"|\n", rows)
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
			{"TableOf50ColumnsAnd150Rows", fullTable(50, 150)},
			{"TableOf8ColumnsAnd1200Rows", fullTable(8, 1200)},
			{"TableOf8ColumnsWithEscapedPipes", "| a | b | c | d | e | f | g | h |\n|---|---|---|---|---|---|---|---|\n" + strings.Repeat("| x | `a \\| b` | y | z | 1 | 2 | 3 | 4 |\n", 600)},
			{"TablesAtTheLimit", fill(fullTable(10, 30)+"\n", MaxBytes)},
			{"FencedPython", "Example:\n\n```python\n" + fill("def get_user_profile_1(self, *args, **kwargs): return self._cache_lookup(user_id=args[0], default_value=None)\n", 62<<10) + "```\n"},
			{"IndentedCode", "Example:\n\n" + fill("    result_1 = some_module.do_the_thing(arg_one, arg_two, *rest, **options)[0]\n", 63<<10)},
			{"ChangelogOfLinks", fill("* [JRA-1234](https://jira.example/JRA-1234) `user_profile_cache` **fixed**\n", 63<<10)},
			{"FenceAfterAList", "- a\n- b\n\n## Code\n\n~~~\n" + fill("x = a[0]*b_c[1] ", 60<<10) + "\n~~~\n"},
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
