package dataplane

import (
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

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
