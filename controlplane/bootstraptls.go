package controlplane

import (
	"errors"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// TLSTransportSocket is the name of Envoy's TLS transport socket.
const TLSTransportSocket = "envoy.transport_sockets.tls"

// BootstrapTLS is how Envoy reaches the control plane over TLS: files on Envoy's host, read by
// Envoy (and re-read by it when they change through a watched directory, which this does not
// configure). The zero value is plaintext.
type BootstrapTLS struct {
	// CAFile is the PEM bundle the control planes' certificates must chain to (the
	// validation context's trusted_ca); required for TLS.
	CAFile string
	// CertFile and KeyFile are Envoy's client certificate and key, for control planes that
	// require client certificates (mTLS); both or neither.
	CertFile, KeyFile string
	// ServerName is sent as SNI and must be a DNS name of the control plane's certificate;
	// empty verifies the chain only.
	ServerName string
}

// IsZero reports whether t is plaintext.
func (t BootstrapTLS) IsZero() bool { return t == BootstrapTLS{} }

// xdsTransportSocket is the xDS cluster's UpstreamTlsContext, nil for plaintext.
func xdsTransportSocket(t BootstrapTLS) (*corev3.TransportSocket, error) {
	if t.IsZero() {
		return nil, nil
	}
	if t.CAFile == "" {
		return nil, errors.New("xDS over TLS needs the CA file that the control planes' certificates chain to")
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return nil, errors.New("a client certificate needs its key and a key its certificate")
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
		// gRPC servers refuse TLS clients that do not offer h2 by ALPN.
		AlpnProtocols:         []string{"h2"},
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
