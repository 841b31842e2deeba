package main

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/openapi"
)

// openAPIInfo is the document information of the gateway described by cfg.
func openAPIInfo(cfg *config.Config) openapi.Info {
	return openapi.Info{
		Title:       "rpcbridge gateway",
		Version:     "generated",
		Description: "REST routes rpcbridge serves for the RPC and HTTP services it discovered.",
		ServerURL:   "http://" + cfg.Gateway.Listen,
	}
}

// openAPIFor renders the OpenAPI document of g for the running configuration.
func openAPIFor(cfg *config.Config) func(ir.Gateway) ([]byte, error) {
	return func(g ir.Gateway) ([]byte, error) { return openapi.Generate(g, openAPIInfo(cfg)) }
}

func newOpenAPICommand(logger func() (*slog.Logger, error), stdout io.Writer) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "openapi --config FILE",
		Short: "Print the OpenAPI 3.1 document of the REST routes rpcbridge would serve",
		Long: `openapi waits for the registries' first listing, builds the routes from the stored IDL and
the rules, and prints their OpenAPI 3.1 document (JSON). A running rpcbridge serves the same at
GET /openapi.json on its admin address.`,
		Example: `  rpcbridge openapi --config rpcbridge.yaml > openapi.json

  # the same document from a running rpcbridge
  curl -s http://127.0.0.1:9901/openapi.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, c, err := oneShot(cmd, logger, file, nil)
			if err != nil {
				return err
			}
			doc, err := openapi.Generate(c.Gateway, openAPIInfo(cfg))
			if err != nil {
				return err
			}
			_, err = stdout.Write(doc)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "rpcbridge.yaml", "configuration file")
	return cmd
}
