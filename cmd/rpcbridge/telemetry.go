package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// gatewayTelemetry is the access log and tracer a gateway reports to (each nil when off).
type gatewayTelemetry struct {
	accessLog *telemetry.AccessLog
	tracing   *telemetry.Tracing
}

// openGatewayTelemetry opens the access log (gateway.accessLog; "stdout" and "stderr" are the
// command's) and starts the tracer (telemetry.tracing) that cfg configures.
func openGatewayTelemetry(ctx context.Context, cfg *config.Config, log *slog.Logger, stdout, stderr io.Writer) (gatewayTelemetry, error) {
	var t gatewayTelemetry
	var err error
	if t.accessLog, err = telemetry.OpenAccessLog(cfg.Gateway.AccessLog, stdout, stderr); err != nil {
		return t, err
	}
	if t.tracing, err = telemetry.NewTracing(ctx, cfg.Telemetry.Tracing, log.With("component", "tracing")); err != nil {
		_ = t.accessLog.Close()
		return gatewayTelemetry{}, err
	}
	if t.tracing != nil {
		log.Info("tracing requests", "endpoint", cfg.Telemetry.Tracing.Endpoint, "protocol", cfg.Telemetry.Tracing.Protocol)
	}
	return t, nil
}

// close flushes the spans still queued and closes the access log.
func (t gatewayTelemetry) close(ctx context.Context, log *slog.Logger) {
	if err := t.tracing.Shutdown(context.WithoutCancel(ctx)); err != nil {
		log.Warn("tracing: flushing the last spans at shutdown failed", "error", err)
	}
	if err := t.accessLog.Close(); err != nil {
		log.Warn("closing the access log failed", "error", err)
	}
}

// registryState counts a snapshot for the registry metrics.
func registryState(snap registries.Snapshot) telemetry.RegistryState {
	s := telemetry.RegistryState{Synced: snap.Synced, Stale: snap.Stale, Services: len(snap.Services), Diagnostics: len(snap.Diagnostics)}
	for _, svc := range snap.Services {
		for _, ep := range svc.Endpoints {
			if ep.Healthy {
				s.HealthyEndpoints++
			} else {
				s.UnhealthyEndpoints++
			}
		}
	}
	return s
}

// activityOf reads a source's activity for the registry metrics; nil when it reports none.
func activityOf(src registries.Source) func() telemetry.RegistryActivity {
	rep, ok := src.(registries.ActivityReporter)
	if !ok {
		return nil
	}
	return func() telemetry.RegistryActivity {
		a := rep.Activity()
		return telemetry.RegistryActivity{LastSync: a.LastSync, WatchRearms: a.WatchRearms}
	}
}

// registerIDLMetrics exports the state of the IDL store.
func registerIDLMetrics(reg prometheus.Registerer, st *store.Store, quota int64, log *slog.Logger) {
	if quota <= 0 {
		quota = store.DefaultQuotaBytes
	}
	telemetry.RegisterIDLMetrics(reg, func() telemetry.IDLState {
		entries := st.List()
		out := telemetry.IDLState{QuotaBytes: quota, Schemas: make([]telemetry.IDLSchema, len(entries))}
		for i, e := range entries {
			out.Schemas[i] = telemetry.IDLSchema{Name: e.Name, Kind: string(e.Kind), Version: e.Version, Bytes: e.Bytes, Stored: e.Created}
		}
		return out
	}, log)
}
