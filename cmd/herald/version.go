package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/alecthomas/kong"
)

// VersionCmd prints what "herald --version" prints. It needs no
// configuration: main runs it before reading any.
type VersionCmd struct{}

func (c *VersionCmd) Run(k *kong.Context) error {
	_, err := fmt.Fprintln(k.Stdout, version())
	return err
}

// version says which herald this is: the module version and the revision
// it was built from, as the Go toolchain stamped them into the binary.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "herald (no build information)"
	}
	return versionLine(info)
}

// versionLine reads info: a release prints "herald v1.2.0 (revision …)"; a
// build from a checkout "(devel)" or a pseudo-version, and "modified" when
// the checkout had changes.
func versionLine(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	vcs := map[string]string{}
	for _, s := range info.Settings {
		vcs[s.Key] = s.Value
	}
	var about []string
	if rev := vcs["vcs.revision"]; rev != "" {
		about = append(about, "revision "+rev)
	}
	if t := vcs["vcs.time"]; t != "" {
		about = append(about, t)
	}
	if vcs["vcs.modified"] == "true" {
		about = append(about, "modified")
	}
	line := "herald " + v
	if len(about) > 0 {
		line += " (" + strings.Join(about, ", ") + ")"
	}
	if info.GoVersion != "" {
		line += " " + info.GoVersion
	}
	return line
}
