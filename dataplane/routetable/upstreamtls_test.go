package routetable_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/xdsfixture"
	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/testpki"
)

// upstreamTLS is the UpstreamTlsContext rpcbridge's control plane emits for envoy.dubboGateways
// (controlplane/bootstraptls.go): trusted_ca from a file, a DNS SAN matcher, SNI, a client
// certificate from files, ALPN.
func upstreamTLS(ca *testpki.CA, client testpki.Pair, name string, alpn ...string) *tlsv3.UpstreamTlsContext {
	file := func(f string) *corev3.DataSource {
		return &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: f}}
	}
	return &tlsv3.UpstreamTlsContext{Sni: name, CommonTlsContext: &tlsv3.CommonTlsContext{
		AlpnProtocols:   alpn,
		TlsCertificates: []*tlsv3.TlsCertificate{{CertificateChain: file(client.CertFile), PrivateKey: file(client.KeyFile)}},
		ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
			TrustedCa: file(ca.CAFile),
			MatchTypedSubjectAltNames: []*tlsv3.SubjectAltNameMatcher{{SanType: tlsv3.SubjectAltNameMatcher_DNS,
				Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: name}}}},
		}},
	}}
}

// tlsCluster is an HTTP cluster (HTTP/2 when http2) with ctx as its transport socket.
func tlsCluster(t *testing.T, ctx *tlsv3.UpstreamTlsContext, http2 bool) *routetable.Cluster {
	t.Helper()
	c := xdsfixture.Cluster("tls", "tls", http2)
	cfg, err := anypb.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.TransportSocket = &corev3.TransportSocket{Name: "envoy.transport_sockets.tls", ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: cfg}}
	return buildCluster(t, c)
}

func buildCluster(t *testing.T, c *clusterv3.Cluster) *routetable.Cluster {
	t.Helper()
	table, err := routetable.Build(resources(nil, nil, []*clusterv3.Cluster{c}, nil), listenerName)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return table.Cluster(c.GetName())
}

// tlsServer is a real TLS server with cert that requires client certificates of ca and says
// which protocol it served.
func tlsServer(t *testing.T, ca *testpki.CA, cert testpki.Pair) *httptest.Server {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AppendCertsFromPEM(pem)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Proto + " " + r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestUpstreamTLSHandshakes connects with the configuration decoded from an UpstreamTlsContext
// to a real TLS server: the client certificate is presented, the chain and the DNS name are
// verified, and a server outside them is refused.
func TestUpstreamTLSHandshakes(t *testing.T) {
	ca := testpki.New(t)
	client := ca.Client(t, "edge")
	srv := tlsServer(t, ca, ca.Server(t, "gateway.test", "gateway.test"))
	get := func(c *routetable.Cluster, protocols func(*http.Protocols)) (string, error) {
		tr := &http.Transport{TLSClientConfig: c.TLS.Config.Clone(), Protocols: new(http.Protocols)}
		protocols(tr.Protocols)
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	for _, tc := range []struct {
		name  string
		alpn  string
		http2 bool
		want  string
	}{{"http/1.1", "http/1.1", false, "HTTP/1.1 edge"}, {"h2", "h2", true, "HTTP/2.0 edge"}} {
		t.Run(tc.name, func(t *testing.T) {
			c := tlsCluster(t, upstreamTLS(ca, client, "gateway.test", tc.alpn), tc.http2)
			if c.Unusable != "" || c.TLS == nil {
				t.Fatalf("cluster unusable: %s", c.Unusable)
			}
			got, err := get(c, func(p *http.Protocols) { p.SetHTTP1(!tc.http2); p.SetHTTP2(tc.http2) })
			if err != nil || got != tc.want {
				t.Errorf("GET over TLS: %q %v, want %q", got, err, tc.want)
			}
		})
	}
	t.Run("a name the certificate does not have", func(t *testing.T) {
		c := tlsCluster(t, upstreamTLS(ca, client, "other.test", "http/1.1"), false)
		if _, err := get(c, func(p *http.Protocols) { p.SetHTTP1(true) }); err == nil || !strings.Contains(err.Error(), "none of [other.test]") {
			t.Errorf("a server certificate without other.test: %v, want a refused handshake", err)
		}
	})
	t.Run("a server of another CA", func(t *testing.T) {
		other := testpki.New(t)
		c := tlsCluster(t, upstreamTLS(other, other.Client(t, "edge"), "gateway.test", "http/1.1"), false)
		if _, err := get(c, func(p *http.Protocols) { p.SetHTTP1(true) }); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("a server certificate of another CA: %v, want a refused handshake", err)
		}
	})
	t.Run("inline CA", func(t *testing.T) {
		pem, err := os.ReadFile(ca.CAFile)
		if err != nil {
			t.Fatal(err)
		}
		ctx := upstreamTLS(ca, client, "gateway.test", "http/1.1")
		ctx.CommonTlsContext.GetValidationContext().TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: string(pem)}}
		c := tlsCluster(t, ctx, false)
		if got, err := get(c, func(p *http.Protocols) { p.SetHTTP1(true) }); err != nil || got != "HTTP/1.1 edge" {
			t.Errorf("inline trusted_ca: %q %v", got, err)
		}
	})
}

// TestUpstreamTLSFailsClosed: what the gateway does not execute of an UpstreamTlsContext keeps
// the cluster unusable, with the reason.
func TestUpstreamTLSFailsClosed(t *testing.T) {
	ca := testpki.New(t)
	client := ca.Client(t, "edge")
	cases := map[string]func(*tlsv3.UpstreamTlsContext){
		"no trusted_ca": func(c *tlsv3.UpstreamTlsContext) {
			c.CommonTlsContext.GetValidationContext().TrustedCa = nil
		},
		"SDS validation context": func(c *tlsv3.UpstreamTlsContext) {
			c.CommonTlsContext.ValidationContextType = &tlsv3.CommonTlsContext_ValidationContextSdsSecretConfig{
				ValidationContextSdsSecretConfig: &tlsv3.SdsSecretConfig{Name: "ca"}}
		},
		"SDS certificate": func(c *tlsv3.UpstreamTlsContext) {
			c.CommonTlsContext.TlsCertificateSdsSecretConfigs = []*tlsv3.SdsSecretConfig{{Name: "cert"}}
		},
		"prefix SAN matcher": func(c *tlsv3.UpstreamTlsContext) {
			c.CommonTlsContext.GetValidationContext().MatchTypedSubjectAltNames[0].Matcher =
				&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: "gateway"}}
		},
		"pinned hash": func(c *tlsv3.UpstreamTlsContext) {
			c.CommonTlsContext.GetValidationContext().VerifyCertificateHash = []string{strings.Repeat("ab", 32)}
		},
		"TLS parameters": func(c *tlsv3.UpstreamTlsContext) {
			c.CommonTlsContext.TlsParams = &tlsv3.TlsParameters{TlsMinimumProtocolVersion: tlsv3.TlsParameters_TLSv1_3}
		},
		"ALPN h3": func(c *tlsv3.UpstreamTlsContext) { c.CommonTlsContext.AlpnProtocols = []string{"h3"} },
		"session keys": func(c *tlsv3.UpstreamTlsContext) {
			c.MaxSessionKeys = wrapperspb.UInt32(0)
		},
		"missing CA file": func(c *tlsv3.UpstreamTlsContext) {
			c.CommonTlsContext.GetValidationContext().TrustedCa = &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: "/nonexistent/ca.pem"}}
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := upstreamTLS(ca, client, "gateway.test", "h2")
			change(ctx)
			c := tlsCluster(t, ctx, true)
			if c.Unusable == "" || c.TLS != nil {
				t.Errorf("cluster usable (TLS %v) with %s", c.TLS != nil, name)
			}
		})
	}
	t.Run("transport_socket_matches", func(t *testing.T) {
		c := xdsfixture.Cluster("m", "m", false)
		c.TransportSocketMatches = []*clusterv3.Cluster_TransportSocketMatch{{Name: "tls"}}
		if got := buildCluster(t, c); got.Unusable == "" {
			t.Errorf("a cluster with transport_socket_matches is usable")
		}
	})
}
