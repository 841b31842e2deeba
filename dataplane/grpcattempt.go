package dataplane

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/status"

	"github.com/rpcbridge/rpcbridge/dataplane/grpcjson"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// grpcRoute makes a cluster a grpc.ClientConnInterface for the transcoded calls of one route:
// each call goes to the host the pool picks, and again to another one while it failed under one
// of the route's retry conditions (reportGRPC says which failure it was). Each call's outcome goes to outlier detection as
// Envoy's router reports a gRPC call: its status mapped to HTTP, the route timeout as a
// local-origin timeout, a failing connection as a local-origin connect failure.
type grpcRoute struct {
	up    *upstream
	retry *routetable.RetryPolicy
}

// forGRPC returns the connection of the transcoded calls of route for request r. Its
// retriable_request_headers are matched against r as Envoy's router sees it after the
// transcoder: a POST.
func (u *upstream) forGRPC(route *routetable.Route, r *http.Request) grpc.ClientConnInterface {
	asCall := *r
	asCall.Method = http.MethodPost
	return &grpcRoute{up: u, retry: retryFor(route.Retry, &asCall)}
}

// Invoke runs a unary call.
func (r *grpcRoute) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	err := r.up.pool.try(ctx, r.retry, func(ctx context.Context, h *host, release func()) attemptResult {
		defer release()
		cc, err := r.up.grpc.conn(h.addr)
		if err != nil {
			return attemptResult{err: status.Error(codes.Unavailable, err.Error())}
		}
		err = cc.Invoke(ctx, method, args, reply, opts...)
		return attemptResult{err: err, failure: r.up.pool.reportGRPC(ctx, h, cc, err)}
	})
	return grpcError(r.up.cluster.Name, err)
}

// NewStream opens a stream; its host counts it in flight, and its outcome is reported, when the
// stream ends. Only the opening of the stream is retried.
func (r *grpcRoute) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	var stream grpc.ClientStream
	err := r.up.pool.try(ctx, r.retry, func(ctx context.Context, h *host, release func()) attemptResult {
		cc, err := r.up.grpc.conn(h.addr)
		if err != nil {
			release()
			return attemptResult{err: status.Error(codes.Unavailable, err.Error())}
		}
		cs, err := cc.NewStream(ctx, desc, method, opts...)
		if err != nil {
			release()
			return attemptResult{err: err, failure: r.up.pool.reportGRPC(ctx, h, cc, err)}
		}
		s := &trackedStream{ClientStream: cs}
		s.finish = func(err error) {
			r.up.pool.reportGRPC(ctx, h, cc, err)
			release()
		}
		context.AfterFunc(ctx, func() { s.end(ctx.Err()) }) // a stream given up without a last receive
		stream = s
		return attemptResult{}
	})
	return stream, grpcError(r.up.cluster.Name, err)
}

// grpcError turns the pool's own errors into gRPC statuses.
func grpcError(cluster string, err error) error {
	switch {
	case errors.Is(err, errNoEndpoint):
		return status.Errorf(codes.Unavailable, "cluster %q has no healthy endpoint", cluster)
	case errors.Is(err, errOverflow):
		return status.Errorf(codes.Unavailable, "cluster %q: %v", cluster, err)
	case errors.Is(err, errPerTryTimeout):
		return status.Errorf(codes.DeadlineExceeded, "cluster %q: %v", cluster, err)
	}
	return err
}

// reportGRPC gives a call's outcome to outlier detection and says what its failure is to the
// retry policy: UNAVAILABLE while the connection is in TRANSIENT_FAILURE is a connect failure
// (the call never left the gateway); UNAVAILABLE with the connection no longer READY is a reset
// (the connection was lost under the call: Envoy sees a reset, not a gRPC status); any other
// status is a gRPC answer (HTTP 200 with grpc-status, which Envoy's gRPC conditions read).
func (p *pool) reportGRPC(ctx context.Context, h *host, cc *grpc.ClientConn, err error) failure {
	code := status.Code(err)
	var f failure
	switch state := cc.GetState(); {
	case err == nil || ctx.Err() != nil:
	case code == codes.Unavailable && state == connectivity.TransientFailure:
		f.kind = failedConnect
	case code == codes.Unavailable && state != connectivity.Ready:
		f.kind = failedReset
	default:
		f = grpcAnswered(code)
	}
	d := p.detector
	switch {
	case d == nil:
	case timedOut(ctx):
		d.putResult(h, localOriginTimeout)
	case ctx.Err() != nil:
	case f.kind == failedConnect:
		d.putResult(h, localOriginConnectFailed)
	default:
		d.putResult(h, localOriginConnectSuccess)
		d.putHTTPStatus(h, grpcjson.HTTPStatus(code))
	}
	return f
}

// trackedStream reports its outcome once: when a receive ends the stream (io.EOF counts as OK)
// or its context ends.
type trackedStream struct {
	grpc.ClientStream
	once   sync.Once
	finish func(error)
}

func (s *trackedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		s.end(err)
	}
	return err
}

func (s *trackedStream) end(err error) {
	s.once.Do(func() {
		if errors.Is(err, io.EOF) {
			err = nil
		}
		s.finish(err)
	})
}
