package console

// Forms are the patterns of the console's forms (its POST routes) and the
// least role each asks for, for the tests that try each one.
func Forms() map[string]string {
	forms := map[string]string{}
	for _, rt := range routes {
		if len(rt.pattern) > 5 && rt.pattern[:5] == "POST " {
			forms[rt.pattern[5:]] = string(rt.need)
		}
	}
	return forms
}
