package dataplane

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
)

// acceptHeaders runs the listener's connection-manager header policy on a copy of the
// request's headers (hop-by-hop headers, X-Forwarded-*, x-envoy-*, x-request-id; see package
// hcm) and returns the request every path then forwards, its context carrying the
// hcm.Downstream. A request the policy refuses is answered here and ok is false.
func (g *Gateway) acceptHeaders(w *statusRecorder, r *http.Request, policy *hcm.Policy) (_ *http.Request, ok bool) {
	var remote netip.Addr
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		remote = ap.Addr()
	}
	header := r.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	down, err := policy.Apply(header, hcm.Conn{Remote: remote, Local: g.opts.LocalAddress, TLS: r.TLS != nil})
	var rejected *hcm.Rejection
	switch {
	case errors.As(err, &rejected):
		status := StatusInvalidRequest
		if rejected.Status == http.StatusForbidden {
			status = StatusUpgradeFailed
		}
		g.logger.Debug("request refused by the connection manager", "detail", rejected.Detail, "error", err)
		writeError(w, rejected.Status, status, rejected.Message)
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, StatusInvalidRequest, err.Error())
		return nil, false
	}
	if policy.AlwaysSetRequestIDInResponse {
		w.requestID = down.RequestID
	}
	out := r.WithContext(hcm.NewContext(r.Context(), down))
	out.Header = header
	return out, true
}

// requestLog is the gateway's logger with the request's x-request-id as request_id, for the
// warnings and errors about one request.
func (g *Gateway) requestLog(ctx context.Context) *slog.Logger {
	if d, ok := hcm.FromContext(ctx); ok && d.RequestID != "" {
		return g.logger.With("request_id", d.RequestID)
	}
	return g.logger
}
