package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/registries"
)

// oneShot loads the configuration, waits for the registries' first listing and compiles it.
func oneShot(cmd *cobra.Command, logger func() (*slog.Logger, error), file string,
	progress func([]registries.Snapshot)) (*config.Config, compiled, error) {
	log, err := logger()
	if err != nil {
		return nil, compiled{}, err
	}
	cfg, err := config.Load(file)
	if err != nil {
		return nil, compiled{}, err
	}
	snaps, err := collect(cmd.Context(), log, cfg, time.Duration(cfg.SyncTimeout), progress)
	if err != nil {
		return nil, compiled{}, err
	}
	schemas, err := storedSchemas(cfg, log)
	if err != nil {
		return nil, compiled{}, err
	}
	return cfg, compile(snaps, schemas, cfg, loadKeySets(cmd.Context(), cfg)), nil
}

func newRenderCommand(logger func() (*slog.Logger, error), stdout io.Writer) *cobra.Command {
	var file, format, flavor string
	cmd := &cobra.Command{
		Use:   "render --config FILE",
		Short: "Print the Envoy resources rpcbridge would serve, byte-identical for the same input",
		Example: `  rpcbridge render --config rpcbridge.yaml

  # what a Higress build of Envoy gets (with the HTTP-to-Dubbo transcoder), as JSON
  rpcbridge render -c rpcbridge.yaml --flavor higress --format json

  # review a configuration change: the Envoy resources before and after
  diff <(rpcbridge render -c old.yaml) <(rpcbridge render -c new.yaml)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "yaml" && format != "json" {
				return usageError{fmt.Errorf("--format %q: want yaml or json", format)}
			}
			cfg, c, err := oneShot(cmd, logger, file, nil)
			if err != nil {
				return err
			}
			if err := applyFlavor(cfg, flavor); err != nil {
				return err
			}
			res, err := controlplane.Translate(c.Gateway, translateOptions(cfg))
			if err != nil {
				return fmt.Errorf("translate: %w", err)
			}
			c.Diagnostics = append(c.Diagnostics, res.Diagnostics...)
			warnDiagnostics(cmd.ErrOrStderr(), c)
			out, err := controlplane.Render(res, format)
			if err != nil {
				return err
			}
			_, err = stdout.Write(out)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "rpcbridge.yaml", "configuration file")
	cmd.Flags().StringVar(&format, "format", "yaml", "output format: yaml or json")
	flavorFlag(cmd, &flavor)
	return cmd
}

// warnDiagnostics prints warnings and errors that a one-shot command's reader should see.
func warnDiagnostics(w io.Writer, c compiled) {
	for _, d := range c.Diagnostics {
		fmt.Fprintf(w, "%s\n", d)
	}
}

// translateOptions derives the Envoy translation options from the configuration.
func translateOptions(cfg *config.Config) controlplane.Options {
	downstream := cfg.Gateway.Limits.Downstream()
	gateways := cfg.Envoy.DubboGateways
	return controlplane.Options{
		HTTPPort: cfg.Envoy.HTTPPort, DubboPort: cfg.Envoy.DubboPort, Flavor: cfg.Envoy.Flavor, Downstream: &downstream,
		DubboGateways: &gateways,
		MCPServices:   cfg.Gateway.MCP.Services,
	}
}

// flavorFlag lets --flavor override envoy.flavor from the configuration file.
func flavorFlag(cmd *cobra.Command, target *string) {
	cmd.Flags().StringVar(target, "flavor", "", "Envoy flavor: envoy (stock) or higress (overrides envoy.flavor)")
}

// applyFlavor sets the --flavor value on cfg, rejecting unknown flavors as usage errors.
func applyFlavor(cfg *config.Config, flavor string) error {
	if flavor == "" {
		return nil
	}
	f, err := controlplane.ParseFlavor(flavor)
	if err != nil {
		return usageError{fmt.Errorf("--flavor: %w", err)}
	}
	cfg.Envoy.Flavor = f
	return nil
}
