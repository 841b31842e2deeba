package main

import (
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/dataplane"
)

func newBootstrapCommand(stdout io.Writer) *cobra.Command {
	var opts controlplane.BootstrapOptions
	var format, xdsAddress string
	cmd := &cobra.Command{
		Use:   "bootstrap --xds-address HOST:PORT --node-id ID",
		Short: "Print an Envoy bootstrap that takes its configuration from rpcbridge over ADS",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "yaml" && format != "json" {
				return usageError{fmt.Errorf("--format %q: want yaml or json", format)}
			}
			if opts.NodeID == "" {
				return usageError{fmt.Errorf("--node-id is required")}
			}
			host, port, err := net.SplitHostPort(xdsAddress)
			if err != nil {
				return usageError{fmt.Errorf("--xds-address %q: want HOST:PORT", xdsAddress)}
			}
			p, err := strconv.ParseUint(port, 10, 16)
			if err != nil || p == 0 {
				return usageError{fmt.Errorf("--xds-address %q: port must be 1..65535", xdsAddress)}
			}
			opts.XDSAddress, opts.XDSPort = host, uint32(p)
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
	cmd.Flags().StringVar(&xdsAddress, "xds-address", config.DefaultXDSListen, "address of rpcbridge's xDS server as Envoy reaches it")
	cmd.Flags().StringVar(&opts.NodeID, "node-id", "", "Envoy node id (required)")
	cmd.Flags().StringVar(&opts.NodeCluster, "node-cluster", "rpcbridge-gateway", "Envoy node cluster; proxies of one cluster share a configuration")
	cmd.Flags().BoolVar(&opts.Delta, "delta", false, "use incremental (delta) xDS instead of state-of-the-world")
	cmd.Flags().Uint32Var(&opts.AdminPort, "admin-port", controlplane.DefaultAdminPort, "port of Envoy's admin interface on 127.0.0.1")
	cmd.Flags().Int64Var(&opts.MaxDownstreamConnections, "max-connections", dataplane.DefaultMaxConnections,
		"bound on Envoy's client connections over all listeners (overload manager global_downstream_max_connections; 0: none)")
	cmd.Flags().Uint64Var(&opts.MaxHeapBytes, "max-heap-bytes", 0,
		"Envoy's heap size for heap-based shedding: new requests get 503 above 98% of it (overload manager fixed_heap; 0: off)")
	cmd.Flags().StringVar(&format, "format", "yaml", "output format: yaml or json")
	return cmd
}
