package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// The xDS side lives here, next to the admin side, because both are the same thing: a Keyring
// of named tokens read from files or the environment, compared in constant time and logged by
// name. controlplane then needs no notion of credentials; it takes gRPC server options.

// MetadataKey is the gRPC metadata key of the bearer token.
const MetadataKey = "authorization"

// healthPrefix is the gRPC health service: probes and Envoy's health checks of the xDS cluster
// carry no token, and the service tells nothing but SERVING / NOT_SERVING.
const healthPrefix = "/grpc.health.v1.Health/"

// ServerOptions are the gRPC server options that make every call except the health service's
// present a token of k ("authorization: Bearer <token>"); others fail with Unauthenticated
// before the service sees them, so they receive no configuration.
func ServerOptions(k *Keyring, log *slog.Logger) []grpc.ServerOption {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	check := func(ctx context.Context, method string) (context.Context, error) {
		if strings.HasPrefix(method, healthPrefix) {
			return ctx, nil
		}
		remote := ""
		if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
			remote = p.Addr.String()
		}
		md, _ := metadata.FromIncomingContext(ctx)
		vals := md.Get(MetadataKey)
		if len(vals) == 0 {
			log.Warn("xDS client denied", "token", "anonymous", "method", method, "remote", remote)
			return nil, status.Error(codes.Unauthenticated, `xds: a bearer token is required ("authorization: Bearer <token>" metadata)`)
		}
		scheme, tok, _ := strings.Cut(vals[0], " ")
		id, ok := k.Authenticate(strings.TrimSpace(tok))
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			log.Warn("xDS client denied", "token", "unknown", "method", method, "remote", remote)
			return nil, status.Error(codes.Unauthenticated, "xds: the bearer token is not valid")
		}
		log.Debug("xDS client authenticated", "token", id.Name, "method", method, "remote", remote)
		return context.WithValue(ctx, identityKey{}, id), nil
	}
	return []grpc.ServerOption{
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
			ctx, err := check(ss.Context(), info.FullMethod)
			if err != nil {
				return err
			}
			return handler(srv, &identityStream{ServerStream: ss, ctx: ctx})
		}),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			ctx, err := check(ctx, info.FullMethod)
			if err != nil {
				return nil, err
			}
			return handler(ctx, req)
		}),
	}
}

// identityStream carries the authenticated context to the handler.
type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }

// Bearer is gRPC call credentials sending a token as "authorization: Bearer <token>". It does
// not demand transport security from grpc-go (RequireTransportSecurity is false, so that the
// quickstart works on loopback) but checks it itself: over a connection without TLS the token
// is sent only to a loopback address (127.0.0.0/8, ::1, localhost), else the call fails.
type Bearer struct {
	token string
	own   bool // to this process's own listener: no loopback check
}

// NewBearer returns call credentials that send token.
func NewBearer(token string) Bearer { return Bearer{token: token} }

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b Bearer) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	ri, _ := credentials.RequestInfoFromContext(ctx)
	if !b.own && credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity) != nil {
		host := ""
		if len(uri) > 0 {
			if u, err := url.Parse(uri[0]); err == nil {
				host = u.Hostname()
			}
		}
		if !Loopback(host) {
			return nil, fmt.Errorf("xds token: refusing to send it without TLS to %q (plaintext is allowed to loopback addresses only; add the control plane's CA)", host)
		}
	}
	return map[string]string{MetadataKey: "Bearer " + b.token}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials; GetRequestMetadata does
// its own check.
func (Bearer) RequireTransportSecurity() bool { return false }

// Loopback reports whether host (a name or an IP, no port) is a loopback address.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// NewOwnBearer returns call credentials that send token without the loopback check, for a
// process's connection to its own listener (serve's embedded gateway dialling its own xDS
// port): that connection never leaves the host, whatever address the listener has.
func NewOwnBearer(token string) Bearer { return Bearer{token: token, own: true} }
