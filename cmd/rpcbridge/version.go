package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func newVersionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of rpcbridge, the commit it was built from and the Go version",
		Long: `version prints what the Go toolchain recorded in the binary: the module version (a tag such
as v1.2.0, a pseudo-version, or (devel) for a build from a work tree), the VCS revision and commit
time, whether the work tree had uncommitted changes, and the Go version.`,
		Example: `  rpcbridge version`,
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			bi, ok := debug.ReadBuildInfo()
			if !ok {
				return fmt.Errorf("the binary carries no build information (built without module support)")
			}
			_, err := io.WriteString(stdout, versionText(bi))
			return err
		},
	}
}

// versionText renders the build information of a binary: one "key: value" line each, the
// VCS lines only when the build recorded them (go build -buildvcs, the default in a work tree).
func versionText(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rpcbridge %s\n", version)
	if rev := settings["vcs.revision"]; rev != "" {
		if settings["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "revision:    %s\n", rev)
	}
	if t := settings["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "commit time: %s\n", t)
	}
	fmt.Fprintf(&b, "go:          %s\n", bi.GoVersion)
	if os, arch := settings["GOOS"], settings["GOARCH"]; os != "" && arch != "" {
		fmt.Fprintf(&b, "platform:    %s/%s\n", os, arch)
	}
	return b.String()
}
