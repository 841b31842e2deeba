package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"google.golang.org/grpc/credentials"

	"github.com/rpcbridge/rpcbridge/admin"
	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
)

// defaultGatewayAdmin is where a standalone gateway serves its probes and metrics: on loopback,
// so that nothing is exposed unless asked for, and neither serve's admin port (19901) nor
// Envoy's (9901), so that the three run side by side on one host.
const defaultGatewayAdmin = "127.0.0.1:19902"

// gatewayFlags are the flags of `rpcbridge gateway`.
type gatewayFlags struct {
	xds         []string
	listen      string
	admin       string
	nodeID      string
	nodeCluster string
	drain       time.Duration
	// xdsTokenFile holds the bearer token sent to the control planes (xds.auth).
	xdsTokenFile string
	xdsPerRPC    credentials.PerRPCCredentials
	tls          gatewayTLSFlags
	// mcpPath serves the tool routes as MCP tools there (gateway.mcp.path of serve).
	mcpPath string
}

func newGatewayCommand(logger func() (*slog.Logger, error)) *cobra.Command {
	var f gatewayFlags
	cmd := &cobra.Command{
		Use:   "gateway --xds HOST:PORT[,HOST:PORT...]",
		Short: "Run the gateway on its own, following one of several control-plane replicas over xDS",
		Long: `gateway runs rpcbridge's gateway without registries, IDL or an admin API that writes: it takes
its configuration over delta xDS from rpcbridge serve and serves HTTP on --listen, exactly as the
gateway embedded in serve does.

With several --xds addresses (repeated or comma-separated) it follows one replica at a time, in
the order given, and moves to the next when its stream fails or a new stream stays silent (a
replica without configuration). A new stream announces the versions already held, so a replica
with the same content sends nothing again. While no replica answers, the gateway keeps serving
its last configuration and keeps trying, with backoff.

--admin serves /healthz, /readyz (ready once the listener and its routes arrived; not while
draining) and /metrics; "" turns it off. On SIGINT or SIGTERM the gateway drains: it stops being
ready, closes its listener, lets requests in flight finish within --drain-timeout, then closes
what is left.`,
		Example: `  # follow the local serve
  rpcbridge gateway --xds 127.0.0.1:18000 --listen :8080

  # a fleet member following three control-plane replicas, probes on the pod address
  rpcbridge gateway --xds cp-0.rpcbridge:18000,cp-1.rpcbridge:18000,cp-2.rpcbridge:18000 --listen :8080 --admin :19902 --node-id "$HOSTNAME" --drain-timeout 20s

  # HTTPS with two certificates chosen by SNI; xDS over mTLS
  rpcbridge gateway --xds cp.internal:18000 --listen :8443 --tls-cert-file api.crt --tls-key-file api.key --tls-cert-file partners.crt --tls-key-file partners.key --xds-ca-file ca.crt --xds-cert-file gateway.crt --xds-key-file gateway.key --xds-server-name rpcbridge-xds`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logger()
			if err != nil {
				return err
			}
			servers, err := parseXDSAddresses("--xds", f.xds)
			if err != nil {
				return err
			}
			if _, err := f.tls.listener(); err != nil {
				return err
			}
			if f.drain <= 0 {
				return usageError{fmt.Errorf("--drain-timeout %v: must be positive", f.drain)}
			}
			if f.nodeID == "" {
				if f.nodeID, err = os.Hostname(); err != nil {
					return usageError{fmt.Errorf("--node-id is not set and the host name is unknown: %w", err)}
				}
			}
			if f.xdsPerRPC, err = xdsTokenCredentials(f.xdsTokenFile); err != nil {
				return err
			}
			return runGateway(cmd.Context(), log, f, xdsTargets(servers))
		},
	}
	cmd.Flags().StringSliceVar(&f.xds, "xds", []string{config.DefaultXDSListen},
		"xDS addresses of the control-plane replicas, tried in this order; repeat it or separate by commas")
	cmd.Flags().StringVar(&f.listen, "listen", dataplane.DefaultListenAddress, "HTTP listen address of the gateway")
	cmd.Flags().StringVar(&f.admin, "admin", defaultGatewayAdmin, `read-only admin address (/healthz, /readyz, /metrics); "" turns it off`)
	cmd.Flags().StringVar(&f.nodeID, "node-id", "", "xDS node id (default: the host name)")
	cmd.Flags().StringVar(&f.nodeCluster, "node-cluster", gatewayv1.EmbeddedNodeCluster,
		"xDS node cluster; "+gatewayv1.EmbeddedNodeCluster+" gets the routes only an rpcbridge gateway runs (REST to Dubbo)")
	cmd.Flags().StringVar(&f.mcpPath, "mcp-path", "",
		"serve the routes the control plane marks as tools (gateway.mcp.services) as MCP tools on this path, e.g. /mcp")
	addGatewayTLSFlags(cmd, &f.tls)
	cmd.Flags().DurationVar(&f.drain, "drain-timeout", dataplane.DefaultShutdownTimeout, "how long requests in flight may finish at shutdown")
	cmd.Flags().StringVar(&f.xdsTokenFile, "xds-token-file", "",
		"file holding the bearer token sent to the control planes (their xds.auth); sent without TLS to loopback addresses only")
	return cmd
}

// runGateway runs the gateway, and its admin listener when one is configured, until ctx ends.
func runGateway(ctx context.Context, log *slog.Logger, f gatewayFlags, servers []string) error {
	reg := newProcessRegistry()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	listenTLS, xdsTransport, err := f.tls.load(ctx, log)
	if err != nil {
		return err
	}
	gw := dataplane.New(dataplane.Options{
		XDSServers: servers, NodeID: f.nodeID, NodeCluster: f.nodeCluster,
		ListenAddress: f.listen, Logger: log, Registerer: reg, ShutdownTimeout: f.drain,
		TLS: listenTLS, XDSCredentials: xdsclient.Credentials{Transport: xdsTransport, PerRPC: f.xdsPerRPC},
		MCPPath: f.mcpPath,
	})
	// The admin listener outlives the gateway's drain, so that probes see it not ready.
	adminCtx, stopAdmin := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAdmin()
	adminDone := make(chan struct{})
	if f.admin == "" {
		close(adminDone)
	} else {
		lis, err := net.Listen("tcp", f.admin)
		if err != nil {
			return fmt.Errorf("admin listen: %w", err)
		}
		mux := http.NewServeMux()
		admin.Probes(mux, gw.Readiness, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		go func() {
			defer close(adminDone)
			if err := serveAdmin(adminCtx, lis, mux, config.AdminLimits{}, nil, log); err != nil && !errors.Is(err, context.Canceled) {
				cancel(fmt.Errorf("admin: %w", err))
			}
		}()
	}
	adminAddr := f.admin
	if adminAddr == "" {
		adminAddr = "off"
	}
	warnPlaintext(log, plainListener{"gateway", f.listen, listenTLS != nil}) // the admin listener serves probes and metrics only
	log.Info("rpcbridge gateway starting", "xds", servers, "listen", f.listen, "admin", adminAddr,
		"node_id", f.nodeID, "node_cluster", f.nodeCluster)
	err = gw.Run(ctx)
	stopAdmin()
	<-adminDone
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	log.Info("rpcbridge gateway stopped")
	return err
}

// newProcessRegistry is the metrics registry of an rpcbridge process (serve or gateway): its
// own collectors register on it, beside the Go runtime's and the process's.
func newProcessRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}
