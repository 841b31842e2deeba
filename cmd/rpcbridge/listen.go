package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/internal/downstream"
)

// adminShutdownTimeout bounds the admin API's graceful shutdown.
const adminShutdownTimeout = 5 * time.Second

// serveAdmin serves the admin API h on lis until ctx ends, then shuts down gracefully, with the
// same downstream limits as the gateway's listener has (timeouts answered 408, a connection
// limit that closes new connections beyond it, accept errors waited out).
func serveAdmin(ctx context.Context, lis net.Listener, h http.Handler, limits config.AdminLimits, log *slog.Logger) error {
	max := limits.MaxConnections
	if max == 0 {
		max = config.DefaultAdminMaxConnections
	}
	settings := adminSettings(limits.Downstream())
	srv := downstream.NewServer(downstream.Guard(h, settings.Stream, admin.WriteError), settings, false, log)
	ln := downstream.NewListener(lis, downstream.ListenerOptions{MaxConnections: max, Name: "admin", Logger: log})
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
