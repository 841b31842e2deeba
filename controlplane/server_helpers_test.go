package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// giveUp bounds every wait in the server tests; it is never a pass criterion.
const giveUp = 20 * time.Second

// testServer is a Server serving on a real TCP port.
type testServer struct {
	*Server
	addr     string
	registry *prometheus.Registry
}

// startServer starts a Server on 127.0.0.1:0 and stops it when the test ends.
func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerWith(t, ServerOptions{})
}

// startServerWith is startServer with opts (its Logger and Registerer are the test's).
func startServerWith(t *testing.T, opts ServerOptions) *testServer {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts.Registerer = reg
	srv := NewServer(opts)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(giveUp):
			t.Error("Serve did not return after its context ended")
		}
	})
	return &testServer{Server: srv, addr: lis.Addr().String(), registry: reg}
}

// counter returns the value of a counter (summed over label sets matching labels).
func (s *testServer) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := s.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

// httpCluster is an IR cluster with n endpoints 10.0.0.1..n on port.
func httpCluster(name string, n int, port uint32) ir.Cluster {
	c := ir.Cluster{Name: name, Protocol: ir.UpstreamHTTP1}
	for i := 1; i <= n; i++ {
		c.Endpoints = append(c.Endpoints, ir.Endpoint{
			Address: fmt.Sprintf("10.0.0.%d", i), Port: port, Weight: 1, Healthy: true,
		})
	}
	return c
}
