package tlsfiles

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultReloadInterval is how often Load's configurations read their files again to see
// whether they changed.
const DefaultReloadInterval = 2 * time.Second

// state is one immutable set of loaded credentials; handshakes read the latest.
type state struct {
	certs     []*tls.Certificate
	names     [][]string // each certificate's DNS names, lower case
	clientCAs *x509.CertPool
}

// fileHash identifies the content of the files a credential was read from.
type fileHash [sha256.Size]byte

// loader keeps a state up to date with the files of a Server.
type loader struct {
	spec     Server
	log      *slog.Logger
	interval time.Duration
	internal *x509.Certificate // the in-process client's certificate, or nil
	current  atomic.Pointer[state]

	// Owned by the goroutine that polls (and by Load before it starts).
	pairHash   []fileHash
	pairFailed []fileHash
	caHash     fileHash
	caFailed   fileHash
}

// Load reads the certificates and the client CAs of s and returns a TLS 1.2+ server
// configuration that serves them: GetCertificate picks a certificate by the client's SNI among
// the certificates' DNS names (wildcards included), the first when none matches; client
// certificates are asked for when ClientCAFile is set and required with RequireClientCert.
// Every file must load now. Until ctx ends, the files are read again every
// DefaultReloadInterval: what changed and loads is served from the next handshake on, what
// changed and does not load is logged (Warn) and the previous credential kept. The caller
// sets NextProtos (ALPN).
func (s Server) Load(ctx context.Context, log *slog.Logger) (*tls.Config, error) {
	l, err := s.start(ctx, log, DefaultReloadInterval, nil)
	if err != nil {
		return nil, err
	}
	return l.serverConfig(), nil
}

// LoadWithInternalClient is Load plus the configuration of a client inside this process that
// the server accepts as if its certificate were signed by ClientCAFile: an identity made now,
// in memory only, for as long as the process runs (serve's embedded gateway connecting to its
// own xDS server over loopback when xDS requires client certificates). The client accepts only
// a server certificate this configuration currently serves.
func (s Server) LoadWithInternalClient(ctx context.Context, log *slog.Logger) (server, client *tls.Config, err error) {
	cert, err := internalIdentity()
	if err != nil {
		return nil, nil, fmt.Errorf("tls: in-process client identity: %w", err)
	}
	l, err := s.start(ctx, log, DefaultReloadInterval, cert.Leaf)
	if err != nil {
		return nil, nil, err
	}
	client = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		// The server is verified below, against the certificates this process serves: the
		// CA that signed them need not be known here.
		InsecureSkipVerify: true, //nolint:gosec // verified by VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: the server presented no certificate")
			}
			for _, c := range l.current.Load().certs {
				if len(c.Certificate) > 0 && bytes.Equal(c.Certificate[0], cs.PeerCertificates[0].Raw) {
					return nil
				}
			}
			return errors.New("tls: the server's certificate is none of this process's")
		},
	}
	return l.serverConfig(), client, nil
}

// start loads every file and, until ctx ends, reloads them every interval.
func (s Server) start(ctx context.Context, log *slog.Logger, interval time.Duration, internal *x509.Certificate) (*loader, error) {
	if !s.Enabled() {
		return nil, errors.New("tls: no certificate configured")
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &loader{spec: s, log: log, interval: interval, internal: internal,
		pairHash: make([]fileHash, len(s.Certificates)), pairFailed: make([]fileHash, len(s.Certificates))}
	st := &state{certs: make([]*tls.Certificate, len(s.Certificates)), names: make([][]string, len(s.Certificates))}
	for i, p := range s.Certificates {
		h, cert, names, err := loadPair(p)
		if err != nil {
			return nil, err
		}
		l.pairHash[i], st.certs[i], st.names[i] = h, cert, names
	}
	if s.ClientCAFile != "" {
		h, pool, err := loadPool(s.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		l.caHash, st.clientCAs = h, pool
	}
	l.current.Store(st)
	go l.poll(ctx)
	return l, nil
}

// serverConfig is the configuration whose callbacks read the loader's latest state.
func (l *loader) serverConfig() *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: l.certificate}
	switch {
	case l.spec.RequireClientCert:
		cfg.ClientAuth = tls.RequireAnyClientCert
	case l.spec.ClientCAFile != "" || l.internal != nil:
		cfg.ClientAuth = tls.RequestClientCert
	}
	if cfg.ClientAuth != tls.NoClientCert {
		// Verified here rather than through ClientCAs, so that a reloaded CA file applies to
		// the next handshake without a new configuration.
		cfg.VerifyConnection = l.verifyClient
	}
	return cfg
}

// certificate picks the certificate for the client's SNI.
func (l *loader) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	st := l.current.Load()
	host := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if host != "" {
		for i, names := range st.names {
			for _, n := range names {
				if matchName(n, host) {
					return st.certs[i], nil
				}
			}
		}
	}
	return st.certs[0], nil
}

// verifyClient verifies a client certificate, when one was presented, against the client CAs
// of the latest state (or the in-process client's own certificate). tls has already refused a
// client without one when certificates are required. Without client CAs (only the in-process
// client is known) another client's certificate is not verified and identifies nothing, so
// callers must not count it as a verified identity unless clientCAFile is set.
func (l *loader) verifyClient(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	if l.internal != nil && bytes.Equal(leaf.Raw, l.internal.Raw) {
		return nil
	}
	pool := l.current.Load().clientCAs
	if pool == nil {
		return nil // no client CAs: a certificate is not asked for, and proves nothing
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("tls: client certificate %q: %w", leaf.Subject.CommonName, err)
	}
	return nil
}

// poll reloads the files every interval until ctx ends.
func (l *loader) poll(ctx context.Context) {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.reload()
		}
	}
}

// reload reads every file and publishes a new state when something changed and loads. What
// does not load is logged once per content (or read error) and keeps the previous credential.
func (l *loader) reload() {
	old := l.current.Load()
	next := &state{certs: append([]*tls.Certificate(nil), old.certs...), names: append([][]string(nil), old.names...),
		clientCAs: old.clientCAs}
	changed := false
	for i, p := range l.spec.Certificates {
		data, h, err := readFiles(p.CertFile, p.KeyFile)
		if err == nil && h == l.pairHash[i] {
			continue
		}
		var cert *tls.Certificate
		var names []string
		if err == nil {
			cert, names, err = parsePair(p, data[0], data[1])
		}
		if err != nil {
			if key := failureKey(h, err); key != l.pairFailed[i] {
				l.pairFailed[i] = key
				l.log.Warn("TLS certificate files changed but do not load; serving the previous certificate",
					"cert_file", p.CertFile, "key_file", p.KeyFile, "err", err)
			}
			continue
		}
		l.pairHash[i], l.pairFailed[i] = h, fileHash{}
		next.certs[i], next.names[i] = cert, names
		changed = true
		l.log.Info("TLS certificate reloaded", "cert_file", p.CertFile, "names", names, "not_after", cert.Leaf.NotAfter)
	}
	if f := l.spec.ClientCAFile; f != "" {
		data, h, err := readFiles(f)
		if err != nil || h != l.caHash {
			var pool *x509.CertPool
			if err == nil {
				pool, err = parsePool(f, data[0])
			}
			if err != nil {
				if key := failureKey(h, err); key != l.caFailed {
					l.caFailed = key
					l.log.Warn("TLS client CA file changed but does not load; verifying clients with the previous CAs",
						"ca_file", f, "err", err)
				}
			} else {
				l.caHash, l.caFailed, next.clientCAs, changed = h, fileHash{}, pool, true
				l.log.Info("TLS client CA file reloaded", "ca_file", f)
			}
		}
	}
	if changed {
		l.current.Store(next)
	}
}

// failureKey identifies a failure, so that it is logged once: the content that did not parse,
// or the error that kept the files from being read.
func failureKey(content fileHash, err error) fileHash {
	if content != (fileHash{}) {
		return content
	}
	return sha256.Sum256([]byte(err.Error()))
}

// readFiles reads the files and hashes their contents together.
func readFiles(files ...string) ([][]byte, fileHash, error) {
	h := sha256.New()
	out := make([][]byte, len(files))
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fileHash{}, fmt.Errorf("tls: %w", err)
		}
		fmt.Fprintf(h, "%d:", len(data))
		h.Write(data)
		out[i] = data
	}
	var sum fileHash
	h.Sum(sum[:0])
	return out, sum, nil
}

// loadPair reads and parses a certificate and its key.
func loadPair(p Pair) (fileHash, *tls.Certificate, []string, error) {
	data, h, err := readFiles(p.CertFile, p.KeyFile)
	if err != nil {
		return fileHash{}, nil, nil, err
	}
	cert, names, err := parsePair(p, data[0], data[1])
	return h, cert, names, err
}

// parsePair parses a certificate and its key, and lists the certificate's DNS names.
func parsePair(p Pair, certPEM, keyPEM []byte) (*tls.Certificate, []string, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: certificate %s, key %s: %w", p.CertFile, p.KeyFile, err)
	}
	names := make([]string, len(cert.Leaf.DNSNames))
	for i, n := range cert.Leaf.DNSNames {
		names[i] = strings.ToLower(n)
	}
	return &cert, names, nil
}

// loadPool reads a CA bundle.
func loadPool(file string) (fileHash, *x509.CertPool, error) {
	data, h, err := readFiles(file)
	if err != nil {
		return fileHash{}, nil, err
	}
	pool, err := parsePool(file, data[0])
	return h, pool, err
}

// internalIdentity is a self-signed client certificate whose key exists only in memory.
func internalIdentity() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "rpcbridge in-process client"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
