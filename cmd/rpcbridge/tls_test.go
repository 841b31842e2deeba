package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/testpki"
)

// tlsClient is an HTTPS client that trusts ca, sends serverName as SNI, opens a new
// connection per request (so that each request sees the certificate served now) and speaks
// HTTP/2 when the server offers it.
func tlsClient(t *testing.T, ca *testpki.CA, serverName string, cert *testpki.Pair) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, ServerName: serverName}
	if cert != nil {
		c, err := tls.LoadX509KeyPair(cert.CertFile, cert.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true, DisableKeepAlives: true}}
}

// served calls url and returns the status, the body, the protocol and the serial of the
// server's certificate.
func served(c *http.Client, url string) (int, string, string, *big.Int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.TLS == nil || len(resp.TLS.PeerCertificates) == 0 {
		return 0, "", "", nil, fmt.Errorf("%s: not over TLS", url)
	}
	return resp.StatusCode, string(b), resp.Proto, resp.TLS.PeerCertificates[0].SerialNumber, err
}

func serialOf(t *testing.T, p testpki.Pair) *big.Int {
	t.Helper()
	c, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.SerialNumber
}

// copyInto replaces the files of live with those of p, each by a rename, as a Secret volume does.
func copyInto(t *testing.T, p testpki.Pair, live testpki.Pair) {
	t.Helper()
	for _, f := range [][2]string{{p.KeyFile, live.KeyFile}, {p.CertFile, live.CertFile}} {
		data, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f[1]+".tmp", data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f[1]+".tmp", f[1]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServeTLSEverywhere runs serve with TLS on all three listeners and mTLS on xDS:
//   - the admin API answers a plain Go client that trusts the CA, and not plaintext;
//   - the embedded gateway gets its configuration although xDS requires client certificates
//     (readiness needs its routes): it connects with the in-process identity;
//   - the gateway answers HTTPS over HTTP/2 with the certificate the SNI names, and a replaced
//     certificate file is served after the reload, without a restart;
//   - an xDS client without a certificate is refused with Unauthenticated, a standalone gateway
//     without one gets no configuration, and one with a certificate of the CA gets it and serves.
func TestServeTLSEverywhere(t *testing.T) {
	ca := testpki.New(t)
	dir := t.TempDir()
	live := testpki.Pair{CertFile: filepath.Join(dir, "a.crt"), KeyFile: filepath.Join(dir, "a.key")}
	first := ca.Server(t, "a-1", "a.test", "127.0.0.1")
	copyInto(t, first, live)
	b := ca.Server(t, "b", "b.test")
	xdsPair := ca.Server(t, "xds", "127.0.0.1", "xds.test")
	adminPair := ca.Server(t, "admin", "127.0.0.1")
	_, port := backend(t, "hello")
	xdsAddr, gwAddr, adminAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`xds:
  listen: %q
  tls: {certificates: [{certFile: %q, keyFile: %q}], clientCAFile: %q, requireClientCert: true}
gateway:
  listen: %q
  tls: {certificates: [{certFile: %q, keyFile: %q}, {certFile: %q, keyFile: %q}]}
admin:
  listen: %q
  tls: {certificates: [{certFile: %q, keyFile: %q}]}
dataDir: %q
`, xdsAddr, xdsPair.CertFile, xdsPair.KeyFile, ca.CAFile, gwAddr, live.CertFile, live.KeyFile, b.CertFile, b.KeyFile,
		adminAddr, adminPair.CertFile, adminPair.KeyFile, t.TempDir()) + httpServiceConfig(port, "")
	file := writeFile(t, t.TempDir(), "rpcbridge.yaml", cfg)
	logs := newSyncBuffer()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", file, "--log-level", "debug"}, io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK || t.Failed() {
			t.Logf("serve exited %d:\n%s", code, logs.String())
		}
	})

	adminClient := tlsClient(t, ca, "", nil)
	waitFor(t, "readiness over HTTPS (the embedded gateway has its routes)", func() error {
		code, body, _, _, err := served(adminClient, "https://"+adminAddr+"/readyz")
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("readyz %d: %s", code, body)
		}
		return err
	})
	if code, _, err := get("http://" + adminAddr + "/healthz"); err == nil && code == http.StatusOK {
		t.Error("the admin API answered plaintext HTTP with 200")
	}

	for sni, want := range map[string]*big.Int{"a.test": serialOf(t, first), "b.test": serialOf(t, b)} {
		code, body, proto, serial, err := served(tlsClient(t, ca, sni, nil), "https://"+gwAddr+"/hello/x")
		switch {
		case err != nil:
			t.Fatalf("gateway, SNI %s: %v", sni, err)
		case code != http.StatusOK || body != "hello /x":
			t.Errorf("gateway, SNI %s: %d %q", sni, code, body)
		case proto != "HTTP/2.0":
			t.Errorf("gateway, SNI %s: %s, want HTTP/2.0 by ALPN", sni, proto)
		case serial.Cmp(want) != 0:
			t.Errorf("gateway, SNI %s: certificate serial %v, want %v", sni, serial, want)
		}
	}
	// The console's try-it forward reaches the gateway over its TLS listener.
	if code, body, _, _, err := served(adminClient, "https://"+adminAddr+"/gateway/hello/x"); err != nil || code != http.StatusOK || body != "hello /x" {
		t.Errorf("try-it forward to the TLS gateway: %d %q %v, want 200 \"hello /x\"", code, body, err)
	}
	second := ca.Server(t, "a-2", "a.test", "127.0.0.1")
	copyInto(t, second, live)
	waitFor(t, "the replaced certificate", func() error {
		_, _, _, serial, err := served(tlsClient(t, ca, "a.test", nil), "https://"+gwAddr+"/hello/x")
		if err == nil && serial.Cmp(serialOf(t, second)) != 0 {
			err = fmt.Errorf("still serving serial %v", serial)
		}
		return err
	})

	// xDS without a client certificate: Unauthenticated.
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(ca.CAFile)
	pool.AppendCertsFromPEM(pem)
	conn, err := grpc.NewClient(xdsAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	callCtx, stop := context.WithTimeout(context.Background(), giveUp)
	defer stop()
	if _, err := healthpb.NewHealthClient(conn).Check(callCtx, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("xDS call without a client certificate: %v, want Unauthenticated", err)
	}

	anon := startStandalone(t, "--xds", xdsAddr, "--xds-ca-file", ca.CAFile, "--node-id", "anonymous")
	waitFor(t, "the anonymous gateway's refusal", func() error {
		if !strings.Contains(anon.stderr.String(), "Unauthenticated") {
			return fmt.Errorf("no Unauthenticated in its log yet")
		}
		return nil
	})
	if code, _, err := get("http://" + anon.admin + "/readyz"); err != nil || code == http.StatusOK {
		t.Errorf("a gateway without a client certificate is ready (%d, %v): it got configuration", code, err)
	}
	if code, _, err := get("http://" + anon.listen + "/hello/x"); err == nil && code == http.StatusOK {
		t.Error("a gateway without a client certificate serves the routes")
	}

	gwCert := ca.Client(t, "gateway-1")
	gwListen := ca.Server(t, "gw-listen", "127.0.0.1")
	member := startStandalone(t, "--xds", xdsAddr, "--xds-ca-file", ca.CAFile, "--xds-cert-file", gwCert.CertFile,
		"--xds-key-file", gwCert.KeyFile, "--xds-server-name", "xds.test", "--node-id", "member",
		"--tls-cert-file", gwListen.CertFile, "--tls-key-file", gwListen.KeyFile)
	waitFor(t, "the member gateway's routes", func() error {
		code, body, _, _, err := served(tlsClient(t, ca, "", nil), "https://"+member.listen+"/hello/x")
		if err == nil && (code != http.StatusOK || body != "hello /x") {
			err = fmt.Errorf("%d %q", code, body)
		}
		return err
	})
}

// TestGatewayTLSFlags: certificate and key flags come in pairs; --xds-cert-file needs its key.
func TestGatewayTLSFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--tls-cert-file", "a.crt"},
		{"--tls-cert-file", "a.crt", "--tls-key-file", "a.key", "--tls-key-file", "b.key"},
		{"--xds-cert-file", "g.crt"},
		{"--tls-client-ca-file", "ca.crt"},
	} {
		code, _, stderr := runCLI(t, context.Background(), append([]string{"gateway", "--xds", "127.0.0.1:1"}, args...)...)
		if code != exitConfig {
			t.Errorf("%v: exit %d (%s), want %d", args, code, stderr, exitConfig)
		}
	}
}

// TestBootstrapXDSTLSFlags: the flags put an UpstreamTlsContext on the xDS cluster, and the
// bootstrap still decodes strictly; a certificate without its key is exit 2.
func TestBootstrapXDSTLSFlags(t *testing.T) {
	code, out, stderr := runCLI(t, context.Background(), "bootstrap", "--node-id", "envoy-1", "--format", "json",
		"--xds-address", "10.0.0.1:18000", "--xds-ca-file", "/etc/envoy/ca.crt", "--xds-cert-file", "/etc/envoy/envoy.crt",
		"--xds-key-file", "/etc/envoy/envoy.key")
	if code != exitOK {
		t.Fatalf("bootstrap exit %d: %s", code, stderr)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("bootstrap does not decode: %v", err)
	}
	ts := b.GetStaticResources().GetClusters()[0].GetTransportSocket()
	if ts.GetName() != "envoy.transport_sockets.tls" || !strings.Contains(out, "/etc/envoy/envoy.key") || !strings.Contains(out, "trustedCa") {
		t.Errorf("no UpstreamTlsContext on the xDS cluster:\n%s", out)
	}
	if code, _, _ := runCLI(t, context.Background(), "bootstrap", "--node-id", "e", "--xds-ca-file", "ca", "--xds-cert-file", "c"); code != exitConfig {
		t.Errorf("a certificate without its key: exit %d, want %d", code, exitConfig)
	}
}

// TestPlaintextWarning: one Warn names the plaintext listeners that are not on loopback.
func TestPlaintextWarning(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	warnPlaintext(log, plainListener{"xds", "127.0.0.1:18000", false}, plainListener{"admin", "localhost:19901", false},
		plainListener{"gateway", "[::1]:8080", false})
	if buf.Len() != 0 {
		t.Errorf("loopback listeners warned: %s", buf.String())
	}
	warnPlaintext(log, plainListener{"xds", "0.0.0.0:18000", false}, plainListener{"admin", ":19901", true},
		plainListener{"gateway", "10.1.2.3:8080", false})
	out := buf.String()
	if strings.Count(out, "level=WARN") != 1 || !strings.Contains(out, "xds=0.0.0.0:18000") || !strings.Contains(out, "gateway=10.1.2.3:8080") || strings.Contains(out, "admin=") {
		t.Errorf("want one Warn naming xds and gateway only:\n%s", out)
	}
}

var _ = net.Listen
