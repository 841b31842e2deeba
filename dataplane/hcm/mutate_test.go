package hcm

import (
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// uuidV4 is the form of the request ids Envoy generates (Random::uuid: version 4, RFC 4122
// variant, lower-case).
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// edge is the policy rpcbridge emits by default (ir.DefaultForwarding).
var edge = Policy{UseRemoteAddress: true, GenerateRequestID: true,
	InternalOnlyHeaders: []string{"Forwarded", "X-Forwarded-Host", "X-Forwarded-Port", "X-Real-Ip"},
	EarlyRemove:         []string{"Proxy-Authenticate", "Proxy-Authorization"}}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestEnvoyXFFExamples runs the six examples of Envoy's x-forwarded-for documentation
// (configuration/http/http_conn_man/headers, "trusted client address") and checks the trusted
// client address, X-Forwarded-For, x-envoy-external-address and x-envoy-internal as documented.
// The internal examples use RFC 1918 ranges as internal, as the documentation's Envoy did.
func TestEnvoyXFFExamples(t *testing.T) {
	private := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		name         string
		policy       Policy
		remote, xff  string
		trusted      string
		wantXFF      string
		wantExternal string // "" = not set
		wantInternal bool
	}{
		{"1 edge, no trusted proxy", Policy{UseRemoteAddress: true}, "192.0.2.5", "203.0.113.128, 203.0.113.10, 203.0.113.1",
			"192.0.2.5", "203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5", "192.0.2.5", false},
		{"2 internal proxy behind example 1", Policy{}, "10.11.12.13", "203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5",
			"192.0.2.5", "203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5", "", false},
		{"3 edge, two trusted proxies", Policy{UseRemoteAddress: true, XFFNumTrustedHops: 2}, "192.0.2.5",
			"203.0.113.128, 203.0.113.10, 203.0.113.1", "203.0.113.10", "203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5",
			"203.0.113.10", false},
		{"4 internal proxy behind example 3", Policy{XFFNumTrustedHops: 2}, "10.11.12.13",
			"203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5", "203.0.113.10", "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5", "", false},
		{"5 internal client, no XFF", Policy{Internal: private}, "10.20.30.40", "", "10.20.30.40", "", "", false},
		{"6 proxied internal client", Policy{Internal: private}, "10.20.30.50", "10.20.30.40", "10.20.30.40", "10.20.30.40", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.xff != "" {
				h.Set("X-Forwarded-For", tc.xff)
			}
			h.Set("X-Envoy-Internal", "true")
			d, err := tc.policy.Apply(h, Conn{Remote: addr(tc.remote)})
			if err != nil {
				t.Fatal(err)
			}
			if d.RemoteAddress != addr(tc.trusted) || d.DirectRemoteAddress != addr(tc.remote) {
				t.Errorf("trusted client address %v (direct %v), want %s (direct %s)", d.RemoteAddress, d.DirectRemoteAddress, tc.trusted, tc.remote)
			}
			if got := h.Get("X-Forwarded-For"); got != tc.wantXFF {
				t.Errorf("X-Forwarded-For = %q, want %q", got, tc.wantXFF)
			}
			if got := h.Get("X-Envoy-External-Address"); got != tc.wantExternal {
				t.Errorf("x-envoy-external-address = %q, want %q", got, tc.wantExternal)
			}
			if got, want := h.Get("X-Envoy-Internal") == "true", tc.wantInternal; got != want || d.Internal != want {
				t.Errorf("x-envoy-internal = %q (Internal %v), want internal %v", h.Get("X-Envoy-Internal"), d.Internal, want)
			}
		})
	}
}

// TestEdgeRequestFromUntrustedClient is the default policy against a client forging every
// forwarding and control header: Envoy's answers for each.
func TestEdgeRequestFromUntrustedClient(t *testing.T) {
	h := http.Header{
		"Proxy-Authorization":                {"Basic c2VjcmV0"},
		"Proxy-Authenticate":                 {"Basic"},
		"Connection":                         {"keep-alive, X-Hop"},
		"X-Hop":                              {"1"},
		"Keep-Alive":                         {"timeout=5"},
		"Proxy-Connection":                   {"keep-alive"},
		"Te":                                 {"trailers, deflate"},
		"X-Forwarded-For":                    {"203.0.113.7"},
		"X-Forwarded-Proto":                  {"https"},
		"X-Forwarded-Host":                   {"evil.example"},
		"X-Forwarded-Port":                   {"443"},
		"Forwarded":                          {"for=203.0.113.7"},
		"X-Real-Ip":                          {"203.0.113.7"},
		"X-Envoy-Internal":                   {"true"},
		"X-Envoy-Retry-On":                   {"5xx"},
		"X-Envoy-Max-Retries":                {"10"},
		"X-Envoy-External-Address":           {"203.0.113.7"},
		"X-Envoy-Downstream-Service-Cluster": {"admin"},
		"X-Forwarded-Client-Cert":            {"Hash=forged"},
		"X-Request-Id":                       {"client-chosen"},
		"Authorization":                      {"Bearer end-to-end"},
	}
	d, err := edge.Apply(h, Conn{Remote: addr("198.51.100.20")})
	if err != nil {
		t.Fatal(err)
	}
	if !uuidV4.MatchString(h.Get("X-Request-Id")) || d.RequestID != h.Get("X-Request-Id") {
		t.Errorf("x-request-id = %q (Downstream %q), want a fresh UUID v4", h.Get("X-Request-Id"), d.RequestID)
	}
	h.Del("X-Request-Id")
	want := http.Header{
		"Te":                       {"trailers"},
		"X-Forwarded-For":          {"203.0.113.7,198.51.100.20"},
		"X-Forwarded-Proto":        {"http"},
		"X-Envoy-External-Address": {"198.51.100.20"},
		"Authorization":            {"Bearer end-to-end"},
	}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("headers after Apply (-want +got):\n%s", diff)
	}
	if !d.Edge || d.Internal || d.RemoteAddress != addr("198.51.100.20") {
		t.Errorf("Downstream = %+v, want an edge request from 198.51.100.20", d)
	}
}

// TestLoopbackPeerAppendsLocalAddress: Envoy appends its own address, not 127.0.0.1, for a
// loopback peer; the trusted client address stays the peer.
func TestLoopbackPeerAppendsLocalAddress(t *testing.T) {
	h := http.Header{}
	d, err := edge.Apply(h, Conn{Remote: addr("127.0.0.1"), Local: addr("192.0.2.10")})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("X-Forwarded-For"); got != "192.0.2.10" {
		t.Errorf("X-Forwarded-For = %q, want the local address 192.0.2.10", got)
	}
	if got := h.Get("X-Envoy-External-Address"); got != "127.0.0.1" || d.RemoteAddress != addr("127.0.0.1") {
		t.Errorf("x-envoy-external-address = %q, trusted %v; want 127.0.0.1", got, d.RemoteAddress)
	}
}

// TestForwardedProto: X-Forwarded-Proto from the client is replaced unless a trusted proxy
// (xff_num_trusted_hops > 0) or a trusted downstream (use_remote_address false) set it.
func TestForwardedProto(t *testing.T) {
	cases := []struct {
		name   string
		policy Policy
		sent   string
		tls    bool
		want   string
	}{
		{"edge replaces", Policy{UseRemoteAddress: true}, "https", false, "http"},
		{"edge over TLS", Policy{UseRemoteAddress: true}, "http", true, "https"},
		{"edge sets when absent", Policy{UseRemoteAddress: true}, "", false, "http"},
		{"trusted hop keeps", Policy{UseRemoteAddress: true, XFFNumTrustedHops: 1}, "https", false, "https"},
		{"trusted hop sets when absent", Policy{UseRemoteAddress: true, XFFNumTrustedHops: 1}, "", true, "https"},
		{"behind a proxy keeps", Policy{}, "https", false, "https"},
		{"behind a proxy sets when absent", Policy{}, "", false, "http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.sent != "" {
				h.Set("X-Forwarded-Proto", tc.sent)
			}
			if _, err := tc.policy.Apply(h, Conn{Remote: addr("192.0.2.1"), TLS: tc.tls}); err != nil {
				t.Fatal(err)
			}
			if got := h.Get("X-Forwarded-Proto"); got != tc.want {
				t.Errorf("X-Forwarded-Proto = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRequestID covers generate_request_id and preserve_external_request_id: an edge request's
// id is replaced unless preserved, an internal request's kept, a missing one always generated.
func TestRequestID(t *testing.T) {
	internal := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		name   string
		policy Policy
		remote string
		sent   string
		keep   bool // the sent id survives
	}{
		{"edge replaces", Policy{UseRemoteAddress: true, GenerateRequestID: true}, "192.0.2.1", "abc", false},
		{"edge preserves", Policy{UseRemoteAddress: true, GenerateRequestID: true, PreserveExternalRequestID: true}, "192.0.2.1", "abc", true},
		{"internal keeps", Policy{UseRemoteAddress: true, GenerateRequestID: true, Internal: internal}, "10.1.1.1", "abc", true},
		{"behind a proxy keeps", Policy{GenerateRequestID: true}, "192.0.2.1", "abc", true},
		{"generated when absent", Policy{UseRemoteAddress: true, GenerateRequestID: true, PreserveExternalRequestID: true}, "192.0.2.1", "", false},
		{"not generated when off", Policy{UseRemoteAddress: true}, "192.0.2.1", "abc", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.sent != "" {
				h.Set("X-Request-Id", tc.sent)
			}
			d, err := tc.policy.Apply(h, Conn{Remote: addr(tc.remote)})
			if err != nil {
				t.Fatal(err)
			}
			got := h.Get("X-Request-Id")
			switch {
			case tc.keep && got != tc.sent:
				t.Errorf("x-request-id = %q, want %q kept", got, tc.sent)
			case !tc.keep && !uuidV4.MatchString(got):
				t.Errorf("x-request-id = %q, want a generated UUID v4", got)
			case d.RequestID != got:
				t.Errorf("Downstream.RequestID = %q, header %q", d.RequestID, got)
			}
		})
	}
}

// TestInternalRequestKeepsControlHeaders: an internal client keeps x-envoy-* control headers
// and internal-only headers, and gets x-envoy-internal: true.
func TestInternalRequestKeepsControlHeaders(t *testing.T) {
	p := edge
	p.Internal = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	h := http.Header{"X-Envoy-Retry-On": {"5xx"}, "X-Real-Ip": {"10.9.9.9"}, "Proxy-Authorization": {"Basic x"}}
	d, err := p.Apply(h, Conn{Remote: addr("127.0.0.1"), Local: addr("192.0.2.10")})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Internal || h.Get("X-Envoy-Internal") != "true" || h.Get("X-Envoy-Retry-On") != "5xx" || h.Get("X-Real-Ip") != "10.9.9.9" {
		t.Errorf("internal request: Downstream %+v, headers %v", d, h)
	}
	if h.Get("Proxy-Authorization") != "" || h.Get("X-Envoy-External-Address") != "" {
		t.Errorf("internal request kept Proxy-Authorization or got x-envoy-external-address: %v", h)
	}
}

// TestConnectionHeader covers the HTTP/1 codec's Connection handling: nominated headers
// removed, X-Forwarded-* nominations and ten or more tokens refused with 400, h2c upgrade
// offers dropped, and any other upgrade refused with 403 upgrade_failed.
func TestConnectionHeader(t *testing.T) {
	cases := []struct {
		name   string
		header http.Header
		status int // 0 = accepted
		gone   []string
		kept   map[string]string
	}{
		{"nominated removed", http.Header{"Connection": {"X-A, x-b"}, "X-A": {"1"}, "X-B": {"2"}, "X-C": {"3"}}, 0,
			[]string{"X-A", "X-B", "Connection"}, map[string]string{"X-C": "3"}},
		{"nominated TE with trailers kept", http.Header{"Connection": {"te"}, "Te": {"gzip, trailers"}}, 0,
			nil, map[string]string{"Te": "trailers"}},
		{"nominated TE without trailers removed", http.Header{"Connection": {"te"}, "Te": {"gzip"}}, 0, []string{"Te"}, nil},
		{"X-Forwarded-For nominated", http.Header{"Connection": {"x-forwarded-for"}, "X-Forwarded-For": {"1.2.3.4"}}, 400, nil, nil},
		{"X-Forwarded-Proto nominated", http.Header{"Connection": {"X-Forwarded-Proto"}}, 400, nil, nil},
		{"pseudo-header nominated", http.Header{"Connection": {":path"}}, 400, nil, nil},
		{"ten tokens", http.Header{"Connection": {"a,b,c,d,e,f,g,h,i,j"}}, 400, nil, nil},
		{"h2c offer dropped", http.Header{"Connection": {"Upgrade, HTTP2-Settings"}, "Upgrade": {"h2c"}, "Http2-Settings": {"AAMAAABkAAQAAP__"}}, 0,
			[]string{"Upgrade", "Http2-Settings", "Connection"}, nil},
		{"websocket refused", http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, 403, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := edge.Apply(tc.header, Conn{Remote: addr("192.0.2.1")})
			var rej *Rejection
			if tc.status != 0 {
				if !errors.As(err, &rej) || rej.Status != tc.status {
					t.Fatalf("Apply = %v, want a %d rejection", err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range tc.gone {
				if v, ok := tc.header[k]; ok {
					t.Errorf("%s = %q, want it removed", k, v)
				}
			}
			for k, v := range tc.kept {
				if got := tc.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestLastXFFAddress checks getLastAddressFromXFF's edge cases: spaces, too few entries,
// garbage, and the single-address flag.
func TestLastXFFAddress(t *testing.T) {
	cases := []struct {
		xff    []string
		skip   uint32
		want   string // "" = none
		single bool
	}{
		{[]string{"1.1.1.1"}, 0, "1.1.1.1", true},
		{[]string{" 1.1.1.1 , 2.2.2.2 "}, 0, "2.2.2.2", false},
		{[]string{"1.1.1.1", "2.2.2.2"}, 1, "1.1.1.1", false},
		{[]string{"1.1.1.1"}, 1, "", false},
		{[]string{"1.1.1.1,unknown"}, 0, "", false},
		{[]string{"1.1.1.1,"}, 0, "", false},
		{[]string{"2001:db8::1"}, 0, "2001:db8::1", true},
	}
	for _, tc := range cases {
		got, single := lastXFFAddress(http.Header{"X-Forwarded-For": tc.xff}, tc.skip)
		if (tc.want == "" && got.IsValid()) || (tc.want != "" && got != addr(tc.want)) || single != tc.single {
			t.Errorf("lastXFFAddress(%q, %d) = %v, %v; want %q, %v", tc.xff, tc.skip, got, single, tc.want, tc.single)
		}
	}
}
