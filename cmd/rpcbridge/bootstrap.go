package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/dataplane"
)

func newBootstrapCommand(stdout io.Writer) *cobra.Command {
	var opts controlplane.BootstrapOptions
	var format string
	var xdsAddresses []string
	var xdsTokenFile string
	cmd := &cobra.Command{
		Use:   "bootstrap --xds-address HOST:PORT[,HOST:PORT...] --node-id ID",
		Short: "Print an Envoy bootstrap that takes its configuration from rpcbridge over ADS",
		Long: `bootstrap prints an Envoy bootstrap whose ADS stream goes to rpcbridge's xDS server. With several
--xds-address values (repeated or comma-separated) every control-plane replica is an endpoint of
the one xDS cluster rpcbridge-xds; Envoy checks each with grpc.health.v1 (a replica answers
SERVING once it has a configuration) and opens its stream to a healthy one, moving to another
when the stream fails. A DNS name is resolved continuously and every address it returns is an
endpoint (a Kubernetes headless Service names every replica that way).`,
		Example: `  # Envoy on the same host as rpcbridge
  rpcbridge bootstrap --node-id envoy-1 > envoy.yaml && envoy -c envoy.yaml

  # a fleet of proxies that share one configuration, over incremental xDS
  rpcbridge bootstrap --xds-address rpcbridge-0.internal:18000,rpcbridge-1.internal:18000 --node-id "$HOSTNAME" --node-cluster edge --delta

  # a control plane with xds.auth: the token ends up in envoy.yaml, keep it as secret as the token file
  rpcbridge bootstrap --node-id envoy-1 --xds-token-file /etc/rpcbridge/tokens/xds > envoy.yaml

  # xDS over mTLS: Envoy verifies the control planes with ca.crt and presents envoy.crt
  rpcbridge bootstrap --xds-address cp.internal:18000 --node-id "$HOSTNAME" --xds-ca-file /etc/envoy/tls/ca.crt --xds-cert-file /etc/envoy/tls/envoy.crt --xds-key-file /etc/envoy/tls/envoy.key --xds-server-name rpcbridge-xds`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "yaml" && format != "json" {
				return usageError{fmt.Errorf("--format %q: want yaml or json", format)}
			}
			if opts.NodeID == "" {
				return usageError{fmt.Errorf("--node-id is required")}
			}
			servers, err := parseXDSAddresses("--xds-address", xdsAddresses)
			if err != nil {
				return err
			}
			opts.XDSServers = servers
			if xdsTokenFile != "" {
				if opts.XDSToken, err = readTokenFile("--xds-token-file", xdsTokenFile); err != nil {
					return err
				}
			}
			b, err := controlplane.Bootstrap(opts)
			if err != nil {
				return usageError{err}
			}
			out, err := controlplane.RenderMessage(b, format)
			if err != nil {
				return err
			}
			_, err = stdout.Write(out)
			return err
		},
	}
	cmd.Flags().StringSliceVar(&xdsAddresses, "xds-address", []string{config.DefaultXDSListen},
		"rpcbridge's xDS server as Envoy reaches it; repeat it or separate by commas for several replicas")
	cmd.Flags().StringVar(&opts.NodeID, "node-id", "", "Envoy node id (required)")
	cmd.Flags().StringVar(&opts.NodeCluster, "node-cluster", "rpcbridge-gateway", "Envoy node cluster; proxies of one cluster share a configuration")
	cmd.Flags().StringVar(&opts.XDSTLS.CAFile, "xds-ca-file", "", "CA bundle (PEM) on Envoy's host that the control planes' certificates chain to; turns TLS on for the xDS cluster")
	cmd.Flags().StringVar(&opts.XDSTLS.CertFile, "xds-cert-file", "", "Envoy's client certificate (PEM, on its host) for control planes that require one (mTLS)")
	cmd.Flags().StringVar(&opts.XDSTLS.KeyFile, "xds-key-file", "", "key (PEM, on Envoy's host) of --xds-cert-file")
	cmd.Flags().StringVar(&opts.XDSTLS.ServerName, "xds-server-name", "", "SNI, and the DNS name the control planes' certificates must have (default: the chain is verified only)")
	cmd.Flags().BoolVar(&opts.Delta, "delta", false, "use incremental (delta) xDS instead of state-of-the-world")
	cmd.Flags().Uint32Var(&opts.AdminPort, "admin-port", controlplane.DefaultAdminPort, "port of Envoy's admin interface on 127.0.0.1")
	cmd.Flags().Int64Var(&opts.MaxDownstreamConnections, "max-connections", dataplane.DefaultMaxConnections,
		"bound on Envoy's client connections over all listeners (overload manager global_downstream_max_connections; 0: none)")
	cmd.Flags().Uint64Var(&opts.MaxHeapBytes, "max-heap-bytes", 0,
		"Envoy's heap size for heap-based shedding: new requests get 503 above 98% of it (overload manager fixed_heap; 0: off)")
	cmd.Flags().StringVar(&format, "format", "yaml", "output format: yaml or json")
	cmd.Flags().StringVar(&xdsTokenFile, "xds-token-file", "",
		"file holding the bearer token of rpcbridge's xds.auth; it is written into the bootstrap (initial_metadata of the ADS grpc_service)")
	return cmd
}
