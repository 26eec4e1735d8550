// Package buildinfo says which herald this is: the module version and the
// VCS revision the binary was built from, as the Go toolchain stamped them
// into it, for `herald --version` and the herald_build_info metric.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Info describes a binary.
type Info struct {
	// Version is the module version: v1.2.3 when built with go install
	// module@version, "(devel)" or a pseudo-version from a checkout.
	Version string
	// Revision and Time are the VCS commit and its time, "" when the build
	// did not record them (go run, go test, -buildvcs=false).
	Revision, Time string
	// Modified says the checkout had uncommitted changes.
	Modified  bool
	GoVersion string
}

// revision is the VCS revision given at link time, for builds from a
// source tree without its history (a container image build):
//
//	go build -ldflags "-X github.com/heraldhq/herald/internal/buildinfo.revision=$(git rev-parse HEAD)"
//
// What the toolchain recorded itself wins.
var revision string

// Read returns what the toolchain recorded in the running binary.
func Read() Info {
	info := Info{Version: "(devel)", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info = From(bi)
	}
	if info.Revision == "" {
		info.Revision = revision
	}
	return info
}

// From reads bi.
func From(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the line `herald --version` prints: a release
// "herald v1.2.0 (revision …, 2026-01-02T03:04:05Z) go1.26.0", a build
// from a checkout "(devel)" or a pseudo-version, and "modified" when the
// checkout had changes.
func (i Info) String() string {
	var about []string
	if i.Revision != "" {
		about = append(about, "revision "+i.Revision)
	}
	if i.Time != "" {
		about = append(about, i.Time)
	}
	if i.Modified {
		about = append(about, "modified")
	}
	line := "herald " + i.Version
	if len(about) > 0 {
		line += " (" + strings.Join(about, ", ") + ")"
	}
	if i.GoVersion != "" {
		line += " " + i.GoVersion
	}
	return line
}
