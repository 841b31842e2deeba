package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	xdsserver "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"

	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// target is an xDS server under test.
type target interface {
	addr() string
	update(g ir.Gateway) error
	stop()
}

// rpcbridgeTarget is controlplane.Server.
type rpcbridgeTarget struct {
	srv    *controlplane.Server
	lis    net.Listener
	cancel context.CancelFunc
	done   chan error
}

func startRPCBridge(g ir.Gateway) (target, error) {
	srv := controlplane.NewServer(controlplane.ServerOptions{Logger: slog.New(slog.DiscardHandler)})
	if err := srv.Update(g); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &rpcbridgeTarget{srv: srv, lis: lis, cancel: cancel, done: make(chan error, 1)}
	go func() { t.done <- srv.Serve(ctx, lis) }()
	return t, nil
}

func (t *rpcbridgeTarget) addr() string              { return t.lis.Addr().String() }
func (t *rpcbridgeTarget) update(g ir.Gateway) error { return t.srv.Update(g) }
func (t *rpcbridgeTarget) stop()                     { t.cancel(); <-t.done }

// stockTarget is go-control-plane's SnapshotCache and server as a control plane would use them
// out of the box: one snapshot for all nodes, a new version on every change.
type stockTarget struct {
	snapshots cache.SnapshotCache
	gs        *grpc.Server
	lis       net.Listener
	cancel    context.CancelFunc
	version   int
}

// oneNode maps every node to one snapshot.
type oneNode struct{}

func (oneNode) ID(*corev3.Node) string { return "all" }

func startStock(g ir.Gateway) (target, error) {
	t := &stockTarget{snapshots: cache.NewSnapshotCache(false, oneNode{}, nil)}
	if err := t.update(g); err != nil {
		return nil, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.lis, t.cancel = lis, cancel
	t.gs = grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(t.gs, xdsserver.NewServer(ctx, t.snapshots, nil))
	go func() { _ = t.gs.Serve(lis) }()
	return t, nil
}

func (t *stockTarget) addr() string { return t.lis.Addr().String() }

func (t *stockTarget) update(g ir.Gateway) error {
	res, err := controlplane.Translate(g, controlplane.Options{})
	if err != nil {
		return err
	}
	t.version++
	clusters := make([]types.Resource, len(res.Clusters))
	for i, c := range res.Clusters {
		clusters[i] = c
	}
	endpoints := make([]types.Resource, len(res.Endpoints))
	for i, e := range res.Endpoints {
		endpoints[i] = e
	}
	snap, err := cache.NewSnapshot(strconv.Itoa(t.version), map[resource.Type][]types.Resource{
		resource.ClusterType: clusters, resource.EndpointType: endpoints,
	})
	if err != nil {
		return fmt.Errorf("stock snapshot: %w", err)
	}
	return t.snapshots.SetSnapshot(context.Background(), "all", snap)
}

func (t *stockTarget) stop() { t.cancel(); t.gs.Stop() }
