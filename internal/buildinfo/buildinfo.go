// Package buildinfo says which herald this is: the module version and the
// VCS revision the binary was built from, for `herald --version` and the
// herald_build_info metric.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info describes the running binary.
type Info struct {
	// Version is the module version: v1.2.3 when built with go install
	// module@version, "(devel)" when built from a checkout.
	Version string
	// Revision is the VCS commit, "" when the build did not record one
	// (go run, go test, -buildvcs=false).
	Revision string
	// Modified says the checkout had uncommitted changes.
	Modified  bool
	GoVersion string
}

// Read returns what the Go toolchain recorded in the binary.
func Read() Info {
	info := Info{Version: "(devel)", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one line `herald --version` prints:
// "herald v1.2.3 (revision 0123abcd, modified) go1.26.8".
func (i Info) String() string {
	s := "herald " + i.Version
	if i.Revision != "" {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (revision " + rev
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + i.GoVersion
}
