package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	t.Parallel()
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tc := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"Release", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"},
			Settings: vcs("vcs.revision", "0123456789abcdef0123456789abcdef01234567", "vcs.time", "2026-01-02T03:04:05Z", "vcs.modified", "false")},
			"herald v1.2.0 (revision 0123456789abcdef0123456789abcdef01234567, 2026-01-02T03:04:05Z) go1.26.0"},
		{"CheckoutWithChanges", debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "0123456789abcdef0123456789abcdef01234567", "vcs.modified", "true")},
			"herald (devel) (revision 0123456789abcdef0123456789abcdef01234567, modified) go1.26.0"},
		{"NoVCS", debug.BuildInfo{GoVersion: "go1.26.0"}, "herald (devel) go1.26.0"},
	} {
		if got := From(&tc.info).String(); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestRevisionGivenAtLinkTime: a build without VCS information (a
// container image, built without .git) shows the revision passed with
// -ldflags -X.
func TestRevisionGivenAtLinkTime(t *testing.T) {
	if bi, ok := debug.ReadBuildInfo(); ok && From(bi).Revision != "" {
		t.Skip("this test binary carries VCS information")
	}
	old := revision
	t.Cleanup(func() { revision = old })
	revision = "0123abcd"
	if got := Read(); got.Revision != "0123abcd" || !strings.Contains(got.String(), "(revision 0123abcd)") {
		t.Errorf("Read() = %+v, %q; want the revision given at link time", got, got.String())
	}
}
