package controlplane

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// grpcServerOptions are the options of the xDS gRPC server: the keepalive policy, the codec
// that shares state-of-the-world requests' lists of names (requestcodec.go), and TLS and the
// client-certificate check when configured.
func (s *Server) grpcServerOptions() []grpc.ServerOption {
	// Clients may ping idle connections every 15 s (grpc-go's default allows one per 5 min and
	// answers more with GOAWAY "too_many_pings"): rpcbridge's gateways ping every 30 s to
	// notice a replica that vanished, as Istio's control plane permits its proxies.
	opts := []grpc.ServerOption{grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 15 * time.Second}),
		grpc.ForceServerCodecV2(newRequestCodec())}
	if s.opts.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.opts.TLS)))
	}
	if s.opts.RequireClientCert {
		opts = append(opts, grpc.ChainStreamInterceptor(requireClientCertStream), grpc.ChainUnaryInterceptor(requireClientCertUnary))
	}
	return opts
}

// clientCertified reports whether the stream's client presented a certificate over TLS; the
// TLS configuration verified it during the handshake (a certificate that does not verify ends
// the handshake), so presence is proof.
func clientCertified(ctx context.Context) bool {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return false
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	return ok && len(info.State.PeerCertificates) > 0
}

// errNoClientCert is what a client without a verified certificate gets instead of configuration.
var errNoClientCert = status.Error(codes.Unauthenticated, "xDS requires a client certificate signed by xds.tls.clientCAFile")

func requireClientCertStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !clientCertified(ss.Context()) {
		return errNoClientCert
	}
	return handler(srv, ss)
}

func requireClientCertUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !clientCertified(ctx) {
		return nil, errNoClientCert
	}
	return handler(ctx, req)
}
