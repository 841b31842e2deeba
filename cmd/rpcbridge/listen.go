package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"google.golang.org/grpc/credentials"
	"net/http"
	"time"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/dataplane/xdsclient"
	"github.com/rpcbridge/rpcbridge/internal/downstream"
)

// adminShutdownTimeout bounds the admin API's graceful shutdown.
const adminShutdownTimeout = 5 * time.Second

// serveAdmin serves the admin API h on lis until ctx ends, then shuts down gracefully, with the
// same downstream limits as the gateway's listener has (timeouts answered 408, a connection
// limit that closes new connections beyond it, accept errors waited out). With tlsConfig set
// it serves HTTPS (HTTP/1.1).
func serveAdmin(ctx context.Context, lis net.Listener, h http.Handler, limits config.AdminLimits, tlsConfig *tls.Config, log *slog.Logger) error {
	max := limits.MaxConnections
	if max == 0 {
		max = config.DefaultAdminMaxConnections
	}
	settings := adminSettings(limits.Downstream())
	srv := downstream.NewServer(downstream.Guard(h, settings.Stream, admin.WriteError), settings, false, log)
	var ln net.Listener = downstream.NewListener(lis, downstream.ListenerOptions{MaxConnections: max, Name: "admin", Logger: log})
	if tlsConfig != nil {
		tlsConfig = tlsConfig.Clone()
		tlsConfig.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, tlsConfig)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), adminShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		return ctx.Err()
	}
}

// adminSettings are the admin listener's downstream settings. The admin API serves HTTP/1.1
// only and buffers what it reads under its own upload limits, so only the timeouts apply.
func adminSettings(d controlplane.DownstreamLimits) downstream.Settings {
	return downstream.Settings{
		IdleTimeout:           d.IdleTimeout,
		RequestHeadersTimeout: d.RequestHeadersTimeout,
		Stream:                downstream.StreamTimeouts{Idle: d.StreamIdleTimeout, Request: d.RequestTimeout},
	}
}

// serveTLS are the TLS configurations of serve's listeners (nil: plaintext) and, when xDS is
// over TLS, the in-process client configuration of the embedded gateway.
type serveTLS struct {
	xds, gateway, admin *tls.Config
	// xdsRequireClientCert refuses xDS clients without a verified certificate (Unauthenticated).
	xdsRequireClientCert bool
	// embeddedXDS is the embedded gateway's client: an identity made in this process, which the
	// xDS server accepts beside clientCAFile's certificates, and which accepts only a
	// certificate the xDS server serves (so neither the CA of that certificate nor a name in
	// it for the loopback address is needed).
	embeddedXDS *tls.Config
	// embeddedGateway is the admin API's try-it forward's client of the gateway listener, made
	// the same way (nil while the gateway serves plaintext).
	embeddedGateway *tls.Config
}

// loadServeTLS loads the TLS blocks of cfg; the files are reloaded until ctx ends.
func loadServeTLS(ctx context.Context, cfg *config.Config, log *slog.Logger) (serveTLS, error) {
	var out serveTLS
	var err error
	if spec := cfg.XDS.TLS; spec.Enabled() {
		// The handshake asks for a certificate without requiring one; the xDS server refuses
		// the calls of a client without one as Unauthenticated, which says why.
		out.xdsRequireClientCert = spec.RequireClientCert
		spec.RequireClientCert = false
		l := log.With("listener", "xds")
		if cfg.Gateway.On() {
			out.xds, out.embeddedXDS, err = spec.LoadWithInternalClient(ctx, l)
		} else {
			out.xds, err = spec.Load(ctx, l)
		}
		if err != nil {
			return out, fmt.Errorf("xds.tls: %w", err)
		}
	}
	if spec := cfg.Gateway.TLS; spec.Enabled() && cfg.Gateway.On() {
		// The admin API's try-it forward is the in-process client of the gateway's listener.
		if out.gateway, out.embeddedGateway, err = spec.LoadWithInternalClient(ctx, log.With("listener", "gateway")); err != nil {
			return out, fmt.Errorf("gateway.tls: %w", err)
		}
	}
	if spec := cfg.Admin.TLS; spec.Enabled() {
		if out.admin, err = spec.Load(ctx, log.With("listener", "admin")); err != nil {
			return out, fmt.Errorf("admin.tls: %w", err)
		}
	}
	return out, nil
}

// plainListener is a listener address and whether it serves TLS.
type plainListener struct {
	name, addr string
	tls        bool
}

// warnPlaintext logs one Warn naming the listeners that serve plaintext on an address other
// than loopback, where anyone on the network can read and change what they carry.
func warnPlaintext(log *slog.Logger, listeners ...plainListener) {
	var exposed []string
	for _, l := range listeners {
		if !l.tls && l.addr != "" && !isLoopback(l.addr) {
			exposed = append(exposed, l.name+"="+l.addr)
		}
	}
	if len(exposed) > 0 {
		log.Warn("plaintext listeners on non-loopback addresses: configure their tls (docs/tls.md)", "listeners", exposed)
	}
}

// isLoopback reports whether a listen address (host:port) binds loopback only: a loopback IP
// or "localhost". An empty host, 0.0.0.0 and :: bind every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// embeddedXDSCredentials are the embedded gateway's xDS credentials: plaintext, or TLS with
// the in-process identity, and perRPC (its own xds.auth token; nil without xds.auth).
func embeddedXDSCredentials(t serveTLS, perRPC credentials.PerRPCCredentials) xdsclient.Credentials {
	if t.embeddedXDS == nil {
		return xdsclient.Credentials{PerRPC: perRPC}
	}
	return xdsclient.Credentials{Transport: credentials.NewTLS(t.embeddedXDS), PerRPC: perRPC}
}
