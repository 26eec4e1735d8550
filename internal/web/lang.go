package web

import "golang.org/x/text/language"

// Matcher picks, of the languages a page speaks, the one closest to a
// locale ("de-AT") or an Accept-Language header ("de-CH, fr;q=0.8").
type Matcher struct {
	m language.Matcher
}

// NewMatcher returns the matcher of langs; the first is the default.
func NewMatcher(langs []string) *Matcher {
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = language.Make(l)
	}
	return &Matcher{m: language.NewMatcher(tags)}
}

// Match returns the index of the closest language, 0 when none is close.
func (m *Matcher) Match(locales string) int {
	tags, _, err := language.ParseAcceptLanguage(locales)
	if err != nil || len(tags) == 0 {
		return 0
	}
	_, i, confidence := m.m.Match(tags...)
	if confidence == language.No {
		return 0
	}
	return i
}
