package dataplane_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dynamicgrpc"
)

// TestTranscodingThroughGateway runs REST requests through the gateway, configured over xDS
// as the control plane configures Envoy, to a real grpc-go server: unary and streaming calls,
// every gRPC status, rejected and passed-through requests, re-routing, and failover from a
// dead endpoint.
func TestTranscodingThroughGateway(t *testing.T) {
	s := startGRPCStack(t)
	s.push(descriptorBin(t), deadEndpoint(t), s.endpoint())
	s.waitServing()

	cases := []struct {
		name, method, target, body string
		code                       int
		want                       string // JSON, or the exact body when it does not start with '{' or '['
	}{
		{"unary", "GET", "/v1/shelves/1", "", 200, `{"name":"shelves/1","theme":"theme of shelves/1"}`},
		{"escaped path variable", "GET", "/v1/shelves/a%20b", "", 200, `{"name":"shelves/a b","theme":"theme of shelves/a b"}`},
		{"body field", "POST", "/v1/shelves/3/books?request_id=r", `{"title":"T","pages":"5"}`, 200,
			`{"name":"shelves/3/books/new","title":"T","pages":"5"}`},
		{"stream", "GET", "/v1/shelves/2/books:stream?page_size=2", "", 200,
			`[{"name":"shelves/2/books/0","genre":"FICTION","pages":"1099511627776"},{"name":"shelves/2/books/1","genre":"FICTION","pages":"1099511627777"}]`},
		{"malformed body", "POST", "/v1/shelves/3/books", `{"pages":true}`, 400, ""},
		{"not transcoded: unknown query parameter goes to the gRPC server as plain HTTP", "GET", "/v1/shelves/1?x=1", "", 415, ""},
		{"re-routed as gRPC to a cluster without endpoints", "GET", "/v1/shelves/1/titles", "", 503, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 4; i++ { // several times, so that the dead endpoint is picked too
				code, _, body, err := s.call(tc.method, tc.target, tc.body)
				if err != nil {
					t.Fatal(err)
				}
				if code != tc.code {
					t.Fatalf("status %d, want %d: %s", code, tc.code, body)
				}
				if tc.want != "" && !sameJSON(body, tc.want) {
					t.Fatalf("body %s, want %s", body, tc.want)
				}
			}
		})
	}
	if code, _, body, _ := s.call("GET", "/v1/shelves/1/titles", ""); code != 503 || !strings.Contains(body, "elsewhere") {
		t.Errorf("re-routed call: %d %s, want 503 naming cluster elsewhere", code, body)
	}
	code, _, body, _ := s.call("POST", "/v1/shelves/3/books", `{"pages":true}`)
	if code != 400 || !strings.Contains(body, dataplane.StatusInvalidRequest) || !strings.Contains(body, "pages") {
		t.Errorf("malformed body: %d %s, want 400 invalid_request naming the field", code, body)
	}

	for c := codes.Canceled; c <= codes.Unauthenticated; c++ {
		code, header, body, err := s.call("GET", fmt.Sprintf("/v1/fail/%d?message=m%d&with_details=true", c, c), "")
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`{"code":%d,"message":"m%d","details":[{"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"r-1","servingData":"bookstore"}]}`, c, c)
		if code != statusOf(c) || header.Get("Content-Type") != "application/json" || !sameJSON(body, want) {
			t.Errorf("%s: got %d %s, want %d %s", c, code, body, statusOf(c), want)
		}
	}
}

// statusOf is the HTTP status Envoy documents for each gRPC code.
func statusOf(c codes.Code) int {
	return map[codes.Code]int{
		codes.Canceled: 499, codes.Unknown: 500, codes.InvalidArgument: 400, codes.DeadlineExceeded: 504,
		codes.NotFound: 404, codes.AlreadyExists: 409, codes.PermissionDenied: 403, codes.ResourceExhausted: 429,
		codes.FailedPrecondition: 400, codes.Aborted: 409, codes.OutOfRange: 400, codes.Unimplemented: 501,
		codes.Internal: 500, codes.Unavailable: 503, codes.DataLoss: 500, codes.Unauthenticated: 401,
	}[c]
}

// TestTranscoderNACK checks that a route configuration whose descriptor set is bad is
// rejected and the previous routes keep serving.
func TestTranscoderNACK(t *testing.T) {
	s := startGRPCStack(t)
	s.push(descriptorBin(t), s.endpoint())
	s.waitServing()
	bad, err := proto.Marshal(structpb.NewStringValue("not a descriptor set"))
	if err != nil {
		t.Fatal(err)
	}
	s.push(bad, s.endpoint())
	eventually(t, "a NACK", func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.nacks == 0 {
			return fmt.Errorf("no NACK yet")
		}
		return nil
	})
	if code, _, body, err := s.call("GET", "/v1/shelves/1", ""); err != nil || code != 200 {
		t.Errorf("after the NACK: %d %s %v, want the previous routes to serve", code, body, err)
	}
}

// BenchmarkTranscodeUnary compares, in one run, a REST call through the gateway (HTTP/1.1
// keep-alive, routing, transcoding, gRPC call) with a direct gRPC call of the same method
// (GetShelf), and reports both latencies and their ratio.
func BenchmarkTranscodeUnary(b *testing.B) {
	s := startGRPCStack(b)
	s.push(descriptorBin(b), s.endpoint())
	s.waitServing()
	conn, err := grpc.NewClient("passthrough:///"+s.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	request, _ := base64.StdEncoding.DecodeString("CglzaGVsdmVzLzE=") // GetShelfRequest{name: "shelves/1"}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	target := "http://" + s.gw.Addr().String() + "/v1/shelves/1"
	var viaGateway, direct time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		resp, err := client.Get(target)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("gateway answered %d", resp.StatusCode)
		}
		viaGateway += time.Since(start)

		start = time.Now()
		var reply []byte
		if err := conn.Invoke(context.Background(), "/bookstore.v1.Bookstore/GetShelf", request, &reply,
			grpc.ForceCodecV2(dynamicgrpc.RawCodec{})); err != nil {
			b.Fatal(err)
		}
		direct += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(float64(viaGateway.Nanoseconds())/n, "gateway-ns/call")
	b.ReportMetric(float64(direct.Nanoseconds())/n, "direct-ns/call")
	b.ReportMetric(float64(viaGateway)/float64(direct), "gateway/direct")
}
