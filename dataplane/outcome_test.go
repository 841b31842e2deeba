package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/telemetry"
)

// TestCallOutcomes: how each way an upstream call can end is classified for the upstream
// histogram, the span and the access log.
func TestCallOutcomes(t *testing.T) {
	live := context.Background()
	timedOut, cancel := context.WithTimeoutCause(live, 0, errRouteTimeout)
	defer cancel()
	gone, leave := context.WithCancel(live)
	leave()

	grpcCases := []struct {
		ctx     context.Context
		err     error
		outcome telemetry.Outcome
		status  string
		flag    string
	}{
		{live, nil, telemetry.OutcomeOK, "OK", ""},
		{live, status.Error(codes.NotFound, "no shelf"), telemetry.OutcomeError, "NotFound", ""},
		{live, status.Error(codes.Unavailable, "connection refused"), telemetry.OutcomeUnavailable, "Unavailable", ""},
		{live, status.Error(codes.DeadlineExceeded, "server deadline"), telemetry.OutcomeTimeout, "DeadlineExceeded", ""},
		{timedOut, status.Error(codes.DeadlineExceeded, "route timeout"), telemetry.OutcomeTimeout, "DeadlineExceeded", "UT"},
		{gone, status.Error(codes.Canceled, "client left"), telemetry.OutcomeCancelled, "Canceled", "DC"},
	}
	for _, c := range grpcCases {
		r := grpcResult(c.ctx, c.err)
		if r.Outcome != c.outcome || r.GRPCStatus != c.status || r.Flag != c.flag {
			t.Errorf("gRPC %v: %+v, want %s %s flag %q", c.err, r, c.outcome, c.status, c.flag)
		}
	}

	dubboCases := []struct {
		ctx                       context.Context
		err                       error
		outcome                   telemetry.Outcome
		dubboStatus, exceptionCls string
	}{
		{live, nil, telemetry.OutcomeOK, "OK", ""},
		{live, &dubborpc.RemoteError{Class: "java.lang.IllegalStateException"}, telemetry.OutcomeError, "OK", "java.lang.IllegalStateException"},
		{live, &dubborpc.StatusError{Status: dubborpc.StatusServerTimeout}, telemetry.OutcomeTimeout, "SERVER_TIMEOUT", ""},
		{live, &dubborpc.StatusError{Status: dubborpc.StatusServiceNotFound}, telemetry.OutcomeUnavailable, "SERVICE_NOT_FOUND", ""},
		{live, &dubborpc.StatusError{Status: dubborpc.StatusBadRequest}, telemetry.OutcomeError, "BAD_REQUEST", ""},
		{live, fmt.Errorf("dial: %w", dubborpc.ErrUnavailable), telemetry.OutcomeUnavailable, "", ""},
		{live, errNoEndpoint, telemetry.OutcomeUnavailable, "", ""},
		{timedOut, context.DeadlineExceeded, telemetry.OutcomeTimeout, "", ""},
		{gone, context.Canceled, telemetry.OutcomeCancelled, "", ""},
		{live, errors.New("decode response: bad"), telemetry.OutcomeError, "", ""},
	}
	for _, c := range dubboCases {
		r := dubboResult(c.ctx, c.err)
		if r.Outcome != c.outcome || r.DubboStatus != c.dubboStatus || r.DubboException != c.exceptionCls {
			t.Errorf("Dubbo %v: %+v, want %s %q %q", c.err, r, c.outcome, c.dubboStatus, c.exceptionCls)
		}
	}

	httpCases := []struct {
		rec     statusRecorder
		outcome telemetry.Outcome
		status  int
	}{
		{statusRecorder{code: 200}, telemetry.OutcomeOK, 200},
		{statusRecorder{code: 404}, telemetry.OutcomeOK, 404},
		{statusRecorder{code: 502}, telemetry.OutcomeError, 502},
		{statusRecorder{code: 503, details: StatusUpstreamConnectFailure}, telemetry.OutcomeUnavailable, 0},
		{statusRecorder{code: 504, details: StatusUpstreamTimeout}, telemetry.OutcomeTimeout, 0},
		{statusRecorder{code: 502, details: StatusBadGateway}, telemetry.OutcomeError, 0},
		{statusRecorder{code: statusClientClosed}, telemetry.OutcomeCancelled, 0},
	}
	for _, c := range httpCases {
		if r := httpResult(&c.rec); r.Outcome != c.outcome || r.HTTPStatus != c.status {
			t.Errorf("HTTP %d %q: %+v, want %s status %d", c.rec.code, c.rec.details, r, c.outcome, c.status)
		}
	}
}

// TestWriteErrorTellsTheRecorder: the gateway's own error answers carry their status to the
// access log (response_code_details) and, through it, Envoy's response flag.
func TestWriteErrorTellsTheRecorder(t *testing.T) {
	rec := &statusRecorder{ResponseWriter: discard{}}
	writeError(rec, http.StatusServiceUnavailable, StatusNoHealthyUpstream, "none")
	if rec.details != StatusNoHealthyUpstream || flagOfStatus[rec.details] != "UH" || rec.written == 0 || rec.headerAt.IsZero() {
		t.Errorf("recorder %+v: want details %s (flag UH), the body counted, the header time", rec, StatusNoHealthyUpstream)
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
