package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/openapi"
)

// openAPIInfo is the document information of the gateway described by cfg, or of the part of
// it that concerns one service.
func openAPIInfo(cfg *config.Config, service string) openapi.Info {
	info := openapi.Info{
		Title:       "rpcbridge gateway",
		Version:     "generated",
		Description: "REST routes rpcbridge serves for the RPC and HTTP services it discovered.",
		ServerURL:   "http://" + cfg.Gateway.Listen,
	}
	if service != "" {
		info.Title += ": " + service
		info.Description = "REST routes rpcbridge serves for " + service + "."
	}
	return info
}

// openAPIFor renders the OpenAPI document of g (or of one service's part of it) for the running
// configuration.
func openAPIFor(cfg *config.Config) func(ir.Gateway, string) ([]byte, error) {
	return func(g ir.Gateway, service string) ([]byte, error) {
		return openapi.Generate(g, openAPIInfo(cfg, service))
	}
}

func newOpenAPICommand(logger func() (*slog.Logger, error), stdout io.Writer) *cobra.Command {
	var file, service string
	cmd := &cobra.Command{
		Use:   "openapi --config FILE [--service ID]",
		Short: "Print the OpenAPI 3.1 document of the REST routes rpcbridge would serve",
		Long: `openapi waits for the registries' first listing, builds the routes from the stored IDL and
the rules, and prints their OpenAPI 3.1 document (JSON); with --service, only the routes that
call that service (its ID, as rpcbridge catalog prints it). A running rpcbridge serves the same at
GET /openapi.json[?service=ID] on its admin address.`,
		Example: `  rpcbridge openapi --config rpcbridge.yaml > openapi.json

  # the same document from a running rpcbridge
  curl -s http://127.0.0.1:19901/openapi.json

  # one service's routes only
  rpcbridge openapi --config rpcbridge.yaml --service "dubbo:org.rpcbridge.test.GreeterService:1.0.0:"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, c, err := oneShot(cmd, logger, file, nil)
			if err != nil {
				return err
			}
			g := c.Gateway
			if service != "" {
				var ok bool
				if g, ok = openapi.ForService(g, service); !ok {
					return fmt.Errorf("no route calls service %q (services with routes: %s)", service, joinOr(openapi.Services(c.Gateway), "none"))
				}
			}
			doc, err := openapi.Generate(g, openAPIInfo(cfg, service))
			if err != nil {
				return err
			}
			_, err = stdout.Write(doc)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "config", "c", "rpcbridge.yaml", "configuration file")
	cmd.Flags().StringVar(&service, "service", "", "print only the document of this service ID")
	return cmd
}
