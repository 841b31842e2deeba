package dataplane

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// grpcPool holds one gRPC client connection (cleartext HTTP/2) per endpoint of a cluster,
// created on first use and closed when the endpoint leaves the cluster. A ClientConn
// multiplexes every call to its endpoint over one HTTP/2 connection and reconnects by itself.
type grpcPool struct {
	connectTimeout time.Duration

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

func newGRPCPool(connectTimeout time.Duration) *grpcPool {
	return &grpcPool{connectTimeout: connectTimeout, conns: map[string]*grpc.ClientConn{}}
}

// conn returns the connection to addr, creating it (without dialing yet) if needed.
func (p *grpcPool) conn(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cc, ok := p.conns[addr]; ok {
		return cc, nil
	}
	cc, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.DefaultConfig, MinConnectTimeout: p.connectTimeout}),
		grpc.WithUserAgent("rpcbridge-gateway"),
	)
	if err != nil {
		return nil, fmt.Errorf("grpc client for %s: %w", addr, err)
	}
	p.conns[addr] = cc
	return cc, nil
}

// retain closes the connections to endpoints no longer in endpoints.
func (p *grpcPool) retain(endpoints []routetable.Endpoint) {
	keep := make(map[string]bool, len(endpoints))
	for _, ep := range endpoints {
		keep[ep.Address] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, cc := range p.conns {
		if !keep[addr] {
			_ = cc.Close()
			delete(p.conns, addr)
		}
	}
}

// close closes every connection.
func (p *grpcPool) close() { p.retain(nil) }

// Invoke makes upstream a grpc.ClientConnInterface: a unary call goes to an endpoint chosen
// by the cluster's balancer, and once more to another endpoint when the first could not be
// connected to (nothing was sent).
func (u *upstream) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return u.onEndpoint(func(cc *grpc.ClientConn) error {
		return cc.Invoke(ctx, method, args, reply, opts...)
	})
}

// NewStream opens a stream on an endpoint chosen by the balancer, like Invoke.
func (u *upstream) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	var stream grpc.ClientStream
	err := u.onEndpoint(func(cc *grpc.ClientConn) error {
		var err error
		stream, err = cc.NewStream(ctx, desc, method, opts...)
		return err
	})
	return stream, err
}

// onEndpoint runs call on the connection of a balanced endpoint, retrying once elsewhere when
// the connection is failing (the call then never reached the endpoint).
func (u *upstream) onEndpoint(call func(*grpc.ClientConn) error) error {
	first, ok := u.balancer.pick("")
	if !ok {
		return status.Errorf(codes.Unavailable, "cluster %q has no healthy endpoint", u.cluster.Name)
	}
	cc, err := u.grpc.conn(first.Address)
	if err != nil {
		return status.Error(codes.Unavailable, err.Error())
	}
	err = call(cc)
	if status.Code(err) != codes.Unavailable || cc.GetState() != connectivity.TransientFailure {
		return err
	}
	second, ok := u.balancer.pick(first.Address)
	if !ok {
		return err
	}
	if cc, err = u.grpc.conn(second.Address); err != nil {
		return status.Error(codes.Unavailable, err.Error())
	}
	return call(cc)
}
