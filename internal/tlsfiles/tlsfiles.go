// Package tlsfiles turns certificate, key and CA files into TLS configurations: Server for
// rpcbridge's listeners (the gateway, the admin API, the xDS server), with several certificates
// chosen by SNI and files reloaded when they change, and Client for its connections to
// servers (the control planes a standalone gateway follows). Only file names live in the
// configuration; the PEM content is read from the files.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/rpcbridge/rpcbridge/internal/field"
)

// Pair is a certificate chain and its private key, as PEM files.
type Pair struct {
	// CertFile is the PEM file of the certificate, followed by its intermediates.
	CertFile string `yaml:"certFile"`
	// KeyFile is the PEM file of the certificate's private key.
	KeyFile string `yaml:"keyFile"`
}

// Server is a listener's TLS: off while Certificates is empty (plaintext).
type Server struct {
	// Certificates are the listener's certificates. A client's SNI picks the one whose DNS
	// names (wildcards included) match it; the first serves clients that send no name or a
	// name no certificate has. The files are read again when they change; a file that does not
	// load keeps the previous certificate.
	Certificates []Pair `yaml:"certificates"`
	// ClientCAFile is a PEM bundle of the CAs that sign client certificates. Set, client
	// certificates are asked for and verified against it (reloaded like the certificates).
	ClientCAFile string `yaml:"clientCAFile"`
	// RequireClientCert refuses clients without a certificate signed by clientCAFile (mTLS).
	RequireClientCert bool `yaml:"requireClientCert"`
}

// Enabled reports whether s turns TLS on.
func (s Server) Enabled() bool { return len(s.Certificates) > 0 }

// VerifiesClients reports whether s asks clients for certificates.
func (s Server) VerifiesClients() bool { return s.Enabled() && s.ClientCAFile != "" }

// Validate reports every missing or inconsistent value; the files themselves are read by Load.
func (s Server) Validate() error {
	var errs []error
	for i, p := range s.Certificates {
		at := fmt.Sprintf("certificates[%d]", i)
		if p.CertFile == "" {
			errs = append(errs, field.Errorf(at+".certFile", "a certificate needs its certFile"))
		}
		if p.KeyFile == "" {
			errs = append(errs, field.Errorf(at+".keyFile", "a certificate needs its keyFile"))
		}
	}
	if !s.Enabled() {
		if s.ClientCAFile != "" {
			errs = append(errs, field.Errorf("clientCAFile", "client certificates are verified over TLS only: set certificates too"))
		}
		if s.RequireClientCert {
			errs = append(errs, field.Errorf("requireClientCert", "client certificates are verified over TLS only: set certificates too"))
		}
	} else if s.RequireClientCert && s.ClientCAFile == "" {
		errs = append(errs, field.Errorf("requireClientCert", "requiring client certificates needs clientCAFile, the CAs that sign them"))
	}
	return errors.Join(errs...)
}

// Client is the TLS of a connection to a server. The zero value means plaintext.
type Client struct {
	// CAFile is a PEM bundle of the CAs the server's certificate must chain to; empty means the
	// system's roots.
	CAFile string `yaml:"caFile"`
	// CertFile and KeyFile are the client certificate and its key, for servers that verify
	// clients (mTLS); both or neither.
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// ServerName is the name the server's certificate is verified against, and the SNI sent;
	// empty means the host of the address dialed.
	ServerName string `yaml:"serverName"`
}

// Enabled reports whether c turns TLS on.
func (c Client) Enabled() bool { return c != Client{} }

// Validate reports a certificate without its key or a key without its certificate.
func (c Client) Validate() error {
	var errs []error
	if c.CertFile != "" && c.KeyFile == "" {
		errs = append(errs, field.Errorf("keyFile", "a client certificate needs its keyFile"))
	}
	if c.KeyFile != "" && c.CertFile == "" {
		errs = append(errs, field.Errorf("certFile", "a client key needs its certFile"))
	}
	return errors.Join(errs...)
}

// Config reads the files of c into a TLS 1.2+ client configuration; nil when c is the zero
// value (plaintext).
func (c Client) Config() (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("tls client: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pool, err := readPool(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls client: %w", err)
		}
		cfg.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls client: certificate %s, key %s: %w", c.CertFile, c.KeyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// readPool reads a PEM bundle of CA certificates.
func readPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	return parsePool(file, data)
}

func parsePool(file string, data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// matchName reports whether the certificate name pattern (a DNS SAN, possibly "*.example.com")
// matches the SNI host, as RFC 6125 allows: a wildcard stands for exactly one left-most label.
func matchName(pattern, host string) bool {
	pattern = strings.ToLower(strings.TrimSuffix(pattern, "."))
	if pattern == host {
		return true
	}
	suffix, ok := strings.CutPrefix(pattern, "*.")
	if !ok {
		return false
	}
	label, rest, found := strings.Cut(host, ".")
	return found && label != "" && rest == suffix
}
