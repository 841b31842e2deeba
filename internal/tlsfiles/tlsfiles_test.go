package tlsfiles

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rpcbridge/rpcbridge/internal/field"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/testpki"
)

// TestMain fails the package's tests when a goroutine (a reload poller) outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testInterval is the reload interval of the tests' configurations.
const testInterval = 10 * time.Millisecond

// handshake connects client to server over loopback TCP and returns what the client saw; the
// client then reads once, so that a server that refuses its certificate after the client's
// side of a TLS 1.3 handshake completed is seen as an error too.
func handshake(t *testing.T, server, client *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		s := tls.Server(c, server)
		if s.HandshakeContext(context.Background()) == nil {
			_, _ = s.Write([]byte("ok"))
		}
	}()
	defer wg.Wait()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(raw, client)
	if err := c.HandshakeContext(context.Background()); err != nil {
		return c.ConnectionState(), err
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil {
		return c.ConnectionState(), fmt.Errorf("after the handshake: %w", err)
	}
	return c.ConnectionState(), nil
}

// leafName is the first DNS name of the certificate the server presented.
func leafName(t *testing.T, cs tls.ConnectionState) string {
	t.Helper()
	if len(cs.PeerCertificates) == 0 || len(cs.PeerCertificates[0].DNSNames) == 0 {
		t.Fatal("the server presented no certificate with a DNS name")
	}
	return cs.PeerCertificates[0].DNSNames[0]
}

func pairOf(p testpki.Pair) Pair { return Pair{CertFile: p.CertFile, KeyFile: p.KeyFile} }

func clientFor(t *testing.T, ca *testpki.CA, name string) *tls.Config {
	t.Helper()
	cfg, err := Client{CAFile: ca.CAFile, ServerName: name}.Config()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func loadServer(t *testing.T, s Server, log *slog.Logger) (*loader, *tls.Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	l, err := s.start(ctx, log, testInterval, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l, l.serverConfig()
}

// TestSNIPicksTheCertificate: the client's SNI picks the certificate whose DNS names match it
// (a wildcard stands for one label); no name or an unknown one gets the first certificate.
func TestSNIPicksTheCertificate(t *testing.T) {
	ca := testpki.New(t)
	a := ca.Server(t, "a", "a.example.com")
	b := ca.Server(t, "b", "*.b.example.com", "b.example.com")
	_, srv := loadServer(t, Server{Certificates: []Pair{pairOf(a), pairOf(b)}}, nil)
	for sni, want := range map[string]string{
		"a.example.com": "a.example.com", "B.Example.com": "*.b.example.com", "x.b.example.com": "*.b.example.com",
		"y.x.b.example.com": "a.example.com", "other.example.com": "a.example.com", "": "a.example.com",
	} {
		cli := clientFor(t, ca, sni)
		if sni == "" || !strings.HasSuffix(strings.ToLower(sni), "example.com") || sni == "y.x.b.example.com" || sni == "other.example.com" {
			cli.InsecureSkipVerify = true // the default certificate does not name it
		}
		cs, err := handshake(t, srv, cli)
		if err != nil {
			t.Fatalf("SNI %q: %v", sni, err)
		}
		if got := leafName(t, cs); got != want {
			t.Errorf("SNI %q: served %q, want %q", sni, got, want)
		}
		if cs.Version < tls.VersionTLS12 {
			t.Errorf("SNI %q: TLS version %x", sni, cs.Version)
		}
	}
	old := clientFor(t, ca, "a.example.com")
	old.MaxVersion = tls.VersionTLS11
	if _, err := handshake(t, srv, old); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
}

// records collects the log records of a test.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Level.String()+" "+rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }
func (r *records) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// eventually polls cond until it holds or the test's deadline is near.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	if d, ok := t.Deadline(); ok && d.Before(deadline) {
		deadline = d.Add(-time.Second)
	}
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// replace writes data to path atomically, as a Kubernetes Secret volume swaps its files.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func copyPair(t *testing.T, from testpki.Pair, to Pair) {
	t.Helper()
	for _, f := range [][2]string{{from.KeyFile, to.KeyFile}, {from.CertFile, to.CertFile}} {
		data, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		replace(t, f[1], data)
	}
}

// TestReloadsAChangedCertificate: a replaced certificate is served from a later handshake on;
// a broken replacement is logged once and the previous certificate stays.
func TestReloadsAChangedCertificate(t *testing.T) {
	ca := testpki.New(t)
	dir := t.TempDir()
	live := Pair{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	copyPair(t, ca.Server(t, "old", "old.example.com"), live)
	rec := &records{}
	_, srv := loadServer(t, Server{Certificates: []Pair{live}}, slog.New(rec))
	served := func() string {
		cli := clientFor(t, ca, "")
		cli.InsecureSkipVerify = true
		cs, err := handshake(t, srv, cli)
		if err != nil {
			t.Fatal(err)
		}
		return leafName(t, cs)
	}
	if got := served(); got != "old.example.com" {
		t.Fatalf("served %q before the change", got)
	}

	replace(t, live.CertFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"))
	eventually(t, "the Warn of the broken certificate", func() bool { return rec.count("WARN TLS certificate files changed") > 0 })
	if got := served(); got != "old.example.com" {
		t.Errorf("served %q after a broken replacement, want the previous certificate", got)
	}
	time.Sleep(5 * testInterval) // more polls of the same broken content
	if n := rec.count("WARN TLS certificate files changed"); n != 1 {
		t.Errorf("the broken content was reported %d times, want once", n)
	}

	copyPair(t, ca.Server(t, "new", "new.example.com"), live)
	eventually(t, "the new certificate", func() bool { return served() == "new.example.com" })
	if rec.count("INFO TLS certificate reloaded") == 0 {
		t.Error("the reload was not logged")
	}
}

// TestClientCertificates: with requireClientCert a client needs a certificate of clientCAFile;
// with clientCAFile alone a client may come without one but not with a foreign one; a replaced
// CA file applies to later handshakes.
func TestClientCertificates(t *testing.T) {
	ca, other := testpki.New(t), testpki.New(t)
	srvPair := ca.Server(t, "srv", "xds.example.com")
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.crt")
	data, _ := os.ReadFile(ca.CAFile)
	replace(t, caFile, data)
	good, foreign := ca.Client(t, "gw"), other.Client(t, "gw")
	withCert := func(p testpki.Pair) *tls.Config {
		cfg, err := Client{CAFile: ca.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile, ServerName: "xds.example.com"}.Config()
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	anon := clientFor(t, ca, "xds.example.com")

	_, required := loadServer(t, Server{Certificates: []Pair{pairOf(srvPair)}, ClientCAFile: caFile, RequireClientCert: true}, nil)
	if _, err := handshake(t, required, withCert(good)); err != nil {
		t.Errorf("required, good certificate: %v", err)
	}
	for name, cli := range map[string]*tls.Config{"no certificate": anon, "foreign certificate": withCert(foreign)} {
		if _, err := handshake(t, required, cli); err == nil {
			t.Errorf("required, %s: handshake succeeded", name)
		}
	}

	_, optional := loadServer(t, Server{Certificates: []Pair{pairOf(srvPair)}, ClientCAFile: caFile}, nil)
	if _, err := handshake(t, optional, anon); err != nil {
		t.Errorf("optional, no certificate: %v", err)
	}
	if _, err := handshake(t, optional, withCert(foreign)); err == nil {
		t.Error("optional, foreign certificate: handshake succeeded")
	}

	data, _ = os.ReadFile(other.CAFile)
	replace(t, caFile, data)
	eventually(t, "the replaced client CA", func() bool {
		_, err := handshake(t, required, withCert(foreign))
		return err == nil
	})
	if _, err := handshake(t, required, withCert(good)); err == nil {
		t.Error("a certificate of the replaced CA is still accepted")
	}
}

// TestInternalClient: the in-process client's identity passes requireClientCert, and it
// accepts only a certificate its server serves.
func TestInternalClient(t *testing.T) {
	ca := testpki.New(t)
	spec := Server{Certificates: []Pair{pairOf(ca.Server(t, "srv", "127.0.0.1"))}, ClientCAFile: ca.CAFile, RequireClientCert: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, cli, err := spec.LoadWithInternalClient(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, srv, cli); err != nil {
		t.Fatalf("in-process client: %v", err)
	}
	stranger, err := Server{Certificates: []Pair{pairOf(ca.Server(t, "other", "127.0.0.1"))}}.Load(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, stranger, cli); err == nil {
		t.Error("the in-process client accepted a server certificate its process does not serve")
	}
	_, other, err := spec.LoadWithInternalClient(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(t, srv, other); err == nil {
		t.Error("another load's in-process identity was accepted")
	}
}

// TestLoadFailsOnMissingFiles: every file must load at start.
func TestLoadFailsOnMissingFiles(t *testing.T) {
	ca := testpki.New(t)
	p := pairOf(ca.Server(t, "srv", "a.example.com"))
	for name, s := range map[string]Server{
		"missing cert":   {Certificates: []Pair{{CertFile: p.CertFile + ".nope", KeyFile: p.KeyFile}}},
		"key of other":   {Certificates: []Pair{{CertFile: p.CertFile, KeyFile: pairOf(ca.Server(t, "x", "x")).KeyFile}}},
		"missing CA":     {Certificates: []Pair{p}, ClientCAFile: p.CertFile + ".nope"},
		"CA not PEM":     {Certificates: []Pair{p}, ClientCAFile: p.KeyFile},
		"no certificate": {},
	} {
		if _, err := s.Load(context.Background(), nil); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}

// TestValidate: every problem with its key.
func TestValidate(t *testing.T) {
	err := Server{Certificates: []Pair{{CertFile: "a"}, {KeyFile: "b"}}, RequireClientCert: true}.Validate()
	var paths []string
	for _, p := range field.List(err) {
		paths = append(paths, p.Path)
	}
	if want := []string{"certificates[0].keyFile", "certificates[1].certFile", "requireClientCert"}; !slices.Equal(paths, want) {
		t.Errorf("problems at %v, want %v (%v)", paths, want, err)
	}
	if err := (Server{ClientCAFile: "ca"}).Validate(); err == nil {
		t.Error("clientCAFile without certificates is valid")
	}
	if err := (Server{}).Validate(); err != nil {
		t.Errorf("plaintext: %v", err)
	}
	if err := (Client{CertFile: "c"}).Validate(); err == nil {
		t.Error("a client certificate without key is valid")
	}
	if cfg, err := (Client{}).Config(); cfg != nil || err != nil {
		t.Errorf("zero client: %v, %v; want plaintext", cfg, err)
	}
	if _, err := (Client{CAFile: "/nonexistent"}).Config(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing CA file: %v", err)
	}
}

// TestMatchName: RFC 6125 wildcards.
func TestMatchName(t *testing.T) {
	for _, c := range []struct {
		pattern, host string
		want          bool
	}{
		{"a.example.com", "a.example.com", true}, {"A.example.com.", "a.example.com", true},
		{"*.example.com", "a.example.com", true}, {"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false}, {"*.example.com", ".example.com", false},
		{"a.example.com", "b.example.com", false},
	} {
		if got := matchName(c.pattern, c.host); got != c.want {
			t.Errorf("matchName(%q, %q) = %v", c.pattern, c.host, got)
		}
	}
}

var _ = x509.NewCertPool
