package controlplane

import (
	"errors"
	"fmt"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// TLSTransportSocket is the name of Envoy's TLS transport socket.
const TLSTransportSocket = "envoy.transport_sockets.tls"

// UpstreamTLS is how Envoy reaches an upstream of rpcbridge's own over TLS (the control planes,
// the rpcbridge gateways of DubboGateways): files on Envoy's host, read by Envoy (and re-read by
// it when they change through a watched directory, which this does not configure). The zero value
// is plaintext.
type UpstreamTLS struct {
	// CAFile is the PEM bundle the servers' certificates must chain to (the validation
	// context's trusted_ca); required for TLS.
	CAFile string `yaml:"caFile"`
	// CertFile and KeyFile are Envoy's client certificate and key, for servers that require
	// client certificates (mTLS); both or neither.
	CertFile string `yaml:"certFile"`
	KeyFile  string `yaml:"keyFile"`
	// ServerName is sent as SNI and must be a DNS name of the server's certificate; empty
	// verifies the chain only.
	ServerName string `yaml:"serverName"`
}

// BootstrapTLS is how Envoy reaches the control plane over TLS (Bootstrap's XDSTLS).
type BootstrapTLS = UpstreamTLS

// IsZero reports whether t is plaintext.
func (t UpstreamTLS) IsZero() bool { return t == UpstreamTLS{} }

// Validate reports a half configuration: TLS needs its CA, a certificate its key.
func (t UpstreamTLS) Validate() error {
	if t.IsZero() {
		return nil
	}
	if t.CAFile == "" {
		return errors.New("TLS needs the CA file that the servers' certificates chain to (caFile)")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New("a client certificate needs its key and a key its certificate (certFile, keyFile)")
	}
	return nil
}

// xdsTransportSocket is the xDS cluster's UpstreamTlsContext, nil for plaintext. gRPC servers
// refuse TLS clients that do not offer h2 by ALPN.
func xdsTransportSocket(t BootstrapTLS) (*corev3.TransportSocket, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("xDS over TLS: %w", err)
	}
	return tlsTransportSocket(t, []string{"h2"})
}

// tlsTransportSocket is Envoy's TLS transport socket for t, offering alpn; nil for plaintext.
// t must be valid.
func tlsTransportSocket(t UpstreamTLS, alpn []string) (*corev3.TransportSocket, error) {
	if t.IsZero() {
		return nil, nil
	}
	validation := &tlsv3.CertificateValidationContext{
		TrustedCa: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: t.CAFile}},
	}
	if t.ServerName != "" {
		validation.MatchTypedSubjectAltNames = []*tlsv3.SubjectAltNameMatcher{{
			SanType: tlsv3.SubjectAltNameMatcher_DNS,
			Matcher: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: t.ServerName}},
		}}
	}
	common := &tlsv3.CommonTlsContext{
		AlpnProtocols:         alpn,
		ValidationContextType: &tlsv3.CommonTlsContext_ValidationContext{ValidationContext: validation},
	}
	if t.CertFile != "" {
		common.TlsCertificates = []*tlsv3.TlsCertificate{{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: t.CertFile}},
			PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_Filename{Filename: t.KeyFile}},
		}}
	}
	cfg, err := typedConfig(&tlsv3.UpstreamTlsContext{CommonTlsContext: common, Sni: t.ServerName})
	if err != nil {
		return nil, err
	}
	return &corev3.TransportSocket{Name: TLSTransportSocket, ConfigType: &corev3.TransportSocket_TypedConfig{TypedConfig: cfg}}, nil
}
