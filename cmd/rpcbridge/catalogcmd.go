package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/registries"
)

// catalogFormats are the values of catalog --format.
var catalogFormats = []string{"table", "json", "yaml"}

func newCatalogCommand(logger func() (*slog.Logger, error), stdout, stderr io.Writer) *cobra.Command {
	var file, format string
	cmd := &cobra.Command{
		Use:   "catalog --config FILE",
		Short: "Print the services discovered in the configured registries, with their endpoints and diagnostics",
		Long: `catalog reads every configured registry once (waiting up to syncTimeout for each one's first
listing), merges what they hold and prints it: a table by default, or the catalog document as JSON
(the shape of the admin API's /api/v1/catalog) or YAML. It exits with status 1, after printing what
it has, when a registry could not be read, and says why (the registry's own error).`,
		Example: `  # a table of services: protocol, registries, endpoints, healthy and stale ones
  rpcbridge catalog --config rpcbridge.yaml

  # everything, with endpoints, labels and diagnostics, as /api/v1/catalog returns it
  rpcbridge catalog --config rpcbridge.yaml --format json | jq '.services[].id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(catalogFormats, format) {
				return usageError{fmt.Errorf("--format %q: want %s", format, strings.Join(catalogFormats, ", "))}
			}
			last := ""
			progress := func(snaps []registries.Snapshot) {
				if line := syncProgress(snaps); line != "" && line != last {
					fmt.Fprintln(stderr, line)
					last = line
				}
			}
			_, c, err := oneShot(cmd, logger, file, progress)
			if err != nil {
				return err
			}
			if err := writeCatalog(stdout, c.Catalog, format); err != nil {
				return err
			}
			if format == "table" {
				warnDiagnostics(stderr, c)
			}
			return unreadRegistries(c.Catalog)
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "rpcbridge.yaml", "configuration file")
	cmd.Flags().StringVar(&format, "format", "table", "output format: "+strings.Join(catalogFormats, ", "))
	return cmd
}

// syncProgress describes the registries still waited for, with why when a source said so, or
// "" when none is.
func syncProgress(snaps []registries.Snapshot) string {
	var waiting []string
	for _, s := range snaps {
		if s.Synced {
			continue
		}
		w := s.Source
		if ps := registries.Problems(s.Source, s.Diagnostics); len(ps) > 0 {
			w += " (" + ps[0].Message + ")"
		}
		waiting = append(waiting, w)
	}
	if len(waiting) == 0 {
		return ""
	}
	return fmt.Sprintf("syncing registries: %d/%d synced, waiting for %s",
		len(snaps)-len(waiting), len(snaps), strings.Join(waiting, ", "))
}

// writeCatalog prints cat in format.
func writeCatalog(w io.Writer, cat bridge.Catalog, format string) error {
	switch format {
	case "json":
		out, err := json.MarshalIndent(cat, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(out, '\n'))
		return err
	case "yaml":
		out, err := yaml.Marshal(cat)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tPROTOCOL\tSOURCES\tENDPOINTS\tHEALTHY\tSTALE")
	for _, s := range cat.Services {
		healthy, stale := 0, 0
		for _, e := range s.Endpoints {
			if e.Healthy {
				healthy++
			}
			if e.Stale {
				stale++
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\n", s.ID, s.Protocol, strings.Join(s.Sources, ","),
			len(s.Endpoints), healthy, stale)
	}
	return tw.Flush()
}

// unreadRegistries is the error of a catalog with registries that could not be read: every
// pending or stale one, with the reason its source gave.
func unreadRegistries(cat bridge.Catalog) error {
	var lines []string
	describe := func(name, state string) {
		reasons := []string{"no answer (a slow registry may need a longer syncTimeout)"}
		if ps := registries.Problems(name, cat.Diagnostics); len(ps) > 0 {
			reasons = reasons[:0]
			for _, p := range ps {
				reasons = append(reasons, p.Message)
			}
		}
		lines = append(lines, fmt.Sprintf("  %s (%s): %s", name, state, strings.Join(reasons, "; ")))
	}
	for _, name := range cat.Pending {
		describe(name, "no listing")
	}
	for _, name := range cat.Stale {
		describe(name, "stale")
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("%s could not be read:\n%s", plural(len(lines), "registry", "registries"), strings.Join(lines, "\n"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
