package main

import (
	"fmt"

	"github.com/alecthomas/kong"

	"github.com/heraldhq/herald/internal/buildinfo"
)

// VersionCmd prints what "herald --version" prints. It needs no
// configuration: main runs it before reading any.
type VersionCmd struct{}

func (c *VersionCmd) Run(k *kong.Context) error {
	_, err := fmt.Fprintln(k.Stdout, version())
	return err
}

// version says which herald this is.
func version() string { return buildinfo.Read().String() }
