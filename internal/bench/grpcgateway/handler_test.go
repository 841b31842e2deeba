package grpcgateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serveInProcess answers one request of the load (GET when get, else POST) with h, without a
// network hop on the HTTP side, and fails unless it answers 200.
func serveInProcess(b *testing.B, h http.Handler, get bool) {
	var req *http.Request
	if get {
		req = httptest.NewRequest(http.MethodGet, getPath, nil)
	} else {
		req = httptest.NewRequest(http.MethodPost, postPath, strings.NewReader(postBody))
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// BenchmarkHandler calls grpc-gateway's ServeMux and rpcbridge's gateway handler in process
// (GET and POST alternating) against the same grpc-go server, one request at a time: the time
// and the allocations each handler costs per request, including the upstream call and the
// server's own work (the same for both), without the HTTP client and server.
//
//	go test ./internal/bench/grpcgateway -run '^$' -bench Handler -benchmem
func BenchmarkHandler(b *testing.B) {
	addr := startGRPC(b)
	gw := embeddedGateway(b, addr)
	checkAnswers(b, &http.Client{Timeout: giveUp}, "http://"+gw.Addr().String()) // its routes have arrived
	handlers := []struct {
		name string
		h    http.Handler
	}{
		{"grpcgateway", grpcGatewayMux(b, addr)},
		{"rpcbridge", gw.Handler()},
	}
	for _, h := range handlers {
		b.Run(h.name, func(b *testing.B) {
			serveInProcess(b, h.h, true)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				serveInProcess(b, h.h, i%2 == 0)
			}
		})
	}
}
