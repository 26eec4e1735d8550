package markdown

import (
	"fmt"
	"strings"
)

// changelog is ordinary release notes of about n bytes: headings, a
// paragraph, a table, a code block, and long lists of changes, each with
// a link, some bold or code, as a vendor's changelog has them.
func changelog(n int) string {
	var b strings.Builder
	b.WriteString("# Jira 9.4.1\n\nThis release fixes **security** issues and bugs; see the _upgrade notes_ below.\n\n")
	b.WriteString("| Component | Version | Notes |\n| --- | --- | --- |\n| Core | 9.4.1 | [details](https://example.com/core) |\n| Agile | 9.4.1 | ~~beta~~ stable |\n\n")
	b.WriteString("```sh\n./upgrade.sh --from 9.4.0 --to 9.4.1 --backup /var/backups/*.tar.gz\n```\n\n")
	for section := 1; b.Len() < n; section++ {
		fmt.Fprintf(&b, "## Changes in part %d\n\n", section)
		for i := 0; i < 200 && b.Len() < n; i++ {
			issue := section*1000 + i
			switch i % 4 {
			case 0:
				fmt.Fprintf(&b, "- **Fixed** [JRA-%d](https://jira.example.com/browse/JRA-%d): the board no longer freezes when a sprint has more than `500` issues\n", issue, issue)
			case 1:
				fmt.Fprintf(&b, "- Improved the *search* speed for large instances ([#%d](https://github.com/acme/jira/pull/%d))\n", issue, issue)
			case 2:
				fmt.Fprintf(&b, "  - see [the docs](https://docs.example.com/jira/9.4/search_tuning#section-%d \"Search tuning\") and https://status.example.com\n", issue)
			case 3:
				fmt.Fprintf(&b, "1. Updated `log4j_core` to 2.%d with the fix for CVE-2021-%d (see [advisory][adv%d])\n", i, issue, issue)
			}
		}
		b.WriteString("\n> **Note:** restart every node after the upgrade.\n\n")
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&b, "[adv%d]: https://example.com/advisories/%d\n", section*1000+i*4+3, section*1000+i*4+3)
		}
		b.WriteString("\n")
	}
	s := b.String()
	if len(s) > n {
		s = s[:strings.LastIndexByte(s[:n], '\n')+1]
	}
	return s
}
