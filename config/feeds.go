package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultVersionPattern finds the version in a feed entry's title.
const DefaultVersionPattern = `v?(\d+(?:\.\d+)+[\w.-]*)`

// ReleaseFeed is a product's release feed (Atom, RSS or JSON Feed). Pattern
// is a regular expression whose first group is the version in an entry's
// title (DefaultVersionPattern when empty).
type ReleaseFeed struct {
	Product string `yaml:"product"`
	URL     string `yaml:"url"`
	Pattern string `yaml:"pattern"`
}

// ReleaseFeeds is HERALD_RELEASE_FEEDS: "jira=https://…,confluence=https://…"
// in the environment, that or a list of {product, url, pattern} in YAML.
type ReleaseFeeds []ReleaseFeed

// UnmarshalText reads the product=url,product=url form.
func (fs *ReleaseFeeds) UnmarshalText(text []byte) error {
	*fs = nil
	for part := range strings.SplitSeq(string(text), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		product, u, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%q is not product=url", part)
		}
		*fs = append(*fs, ReleaseFeed{Product: strings.TrimSpace(product), URL: strings.TrimSpace(u)})
	}
	return nil
}

// UnmarshalYAML reads either form.
func (fs *ReleaseFeeds) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		return fs.UnmarshalText([]byte(node.Value))
	}
	var list []ReleaseFeed
	if err := node.Decode(&list); err != nil {
		return err
	}
	*fs = list
	return nil
}

func (f ReleaseFeed) validate() error {
	if f.Product == "" {
		return errors.New("no product")
	}
	u, err := url.Parse(f.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", f.URL)
	}
	if f.Pattern != "" {
		re, err := regexp.Compile(f.Pattern)
		if err != nil {
			return fmt.Errorf("pattern: %v", err)
		}
		if re.NumSubexp() < 1 {
			return errors.New("pattern needs a group, (…), around the version")
		}
	}
	return nil
}

// VersionPattern returns the feed's compiled pattern.
func (f ReleaseFeed) VersionPattern() *regexp.Regexp {
	if f.Pattern == "" {
		return regexp.MustCompile(DefaultVersionPattern)
	}
	return regexp.MustCompile(f.Pattern) // validated
}
