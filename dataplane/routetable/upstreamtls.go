package routetable

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// tlsTransportSocket is the name of Envoy's TLS transport socket.
const tlsTransportSocket = "envoy.transport_sockets.tls"

// UpstreamTLS is the part of an Envoy UpstreamTlsContext the gateway executes, its files read.
type UpstreamTLS struct {
	// Config is the client configuration: the trusted CAs, the client certificate, SNI and
	// ALPN, and the verification of the server's certificate (chain, and DNS names when the
	// validation context matches any).
	Config *tls.Config
	// Digest identifies what Config was made from (the context and the bytes of its files), so
	// that a transport is kept across table swaps only while it stays the same.
	Digest string
}

// decodeUpstreamTLS reads an envoy.transport_sockets.tls UpstreamTlsContext with Envoy's
// semantics for what the gateway executes: validation_context.trusted_ca (a file or inline
// PEM) verifies the chain, match_typed_subject_alt_names with DNS exact matchers the server's
// DNS names (any one of them, as Envoy matches), sni is sent as the server name, one
// tls_certificates entry is the client certificate, alpn_protocols h2 and http/1.1 are offered.
// Anything else it does not execute is an error, so that the cluster stays unusable (fail
// closed): SDS secrets, other matchers, CRLs, pinned hashes, TLS parameters, session settings,
// and a context without trusted_ca (Envoy would then accept any server certificate).
func decodeUpstreamTLS(ts *corev3.TransportSocket) (*UpstreamTLS, error) {
	var ctx tlsv3.UpstreamTlsContext
	if ts.GetTypedConfig() == nil {
		return nil, fmt.Errorf("transport socket %s has no UpstreamTlsContext", tlsTransportSocket)
	}
	if err := ts.GetTypedConfig().UnmarshalTo(&ctx); err != nil {
		return nil, fmt.Errorf("transport socket %s: %w", tlsTransportSocket, err)
	}
	if err := validate(&ctx); err != nil {
		return nil, fmt.Errorf("transport socket %s: %w", tlsTransportSocket, err)
	}
	common := ctx.GetCommonTlsContext()
	var unexecuted []string
	if ctx.GetAllowRenegotiation() || ctx.GetMaxSessionKeys() != nil || ctx.GetEnforceRsaKeyUsage() != nil ||
		ctx.GetAutoHostSni() || ctx.GetAutoSniSanValidation() {
		unexecuted = append(unexecuted, "session, renegotiation or automatic SNI settings")
	}
	if common.GetTlsParams() != nil || len(common.GetTlsCertificateSdsSecretConfigs()) > 0 || common.GetTlsCertificateProviderInstance() != nil ||
		common.GetCustomHandshaker() != nil || common.GetKeyLog() != nil || common.GetCustomTlsCertificateSelector() != nil {
		unexecuted = append(unexecuted, "TLS parameters, SDS certificates, certificate providers or handshakers")
	}
	validation := common.GetValidationContext()
	if common.GetValidationContextType() != nil && validation == nil {
		unexecuted = append(unexecuted, "a validation context other than an inline one")
	}
	if validation.GetTrustedCa() == nil {
		unexecuted = append(unexecuted, "no validation_context.trusted_ca (Envoy would accept any server certificate)")
	}
	if validation.GetCrl() != nil || len(validation.GetVerifyCertificateSpki()) > 0 || len(validation.GetVerifyCertificateHash()) > 0 ||
		validation.GetAllowExpiredCertificate() || validation.GetCustomValidatorConfig() != nil || validation.GetWatchedDirectory() != nil ||
		validation.GetTrustChainVerification() != tlsv3.CertificateValidationContext_VERIFY_TRUST_CHAIN || validation.GetOnlyVerifyLeafCertCrl() ||
		validation.GetMaxVerifyDepth() != nil || validation.GetCaCertificateProviderInstance() != nil || validation.GetSystemRootCerts() != nil {
		unexecuted = append(unexecuted, "certificate validation beyond trusted_ca and DNS names")
	}
	names, err := dnsNames(validation.GetMatchTypedSubjectAltNames())
	if err != nil {
		unexecuted = append(unexecuted, err.Error())
	}
	if len(common.GetTlsCertificates()) > 1 {
		unexecuted = append(unexecuted, "more than one client certificate")
	}
	for _, p := range common.GetAlpnProtocols() {
		if p != "h2" && p != "http/1.1" {
			unexecuted = append(unexecuted, fmt.Sprintf("ALPN protocol %q", p))
		}
	}
	if len(unexecuted) > 0 {
		return nil, fmt.Errorf("transport socket %s sets what the embedded gateway does not execute: %v", tlsTransportSocket, unexecuted)
	}

	digest := []byte(ts.GetTypedConfig().String())
	caPEM, err := readSource(validation.GetTrustedCa())
	if err != nil {
		return nil, fmt.Errorf("validation_context.trusted_ca: %w", err)
	}
	digest = append(digest, caPEM...)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("validation_context.trusted_ca holds no PEM certificate")
	}
	cfg := &tls.Config{
		ServerName: ctx.GetSni(),
		NextProtos: common.GetAlpnProtocols(),
		MinVersion: tls.VersionTLS12, // Envoy's default minimum for clients
		// Envoy verifies the chain against trusted_ca and, when matchers are set, the names; it
		// never checks the SNI against the certificate by itself. So does this.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyServer(cs, roots, names)
		},
	}
	if certs := common.GetTlsCertificates(); len(certs) == 1 {
		if certs[0].GetPassword() != nil || certs[0].GetPrivateKeyProvider() != nil || certs[0].GetOcspStaple() != nil ||
			len(certs[0].GetSignedCertificateTimestamp()) > 0 || certs[0].GetWatchedDirectory() != nil || certs[0].GetPkcs12() != nil {
			return nil, fmt.Errorf("transport socket %s: tls_certificates sets what the embedded gateway does not execute (only certificate_chain and private_key)", tlsTransportSocket)
		}
		chain, err := readSource(certs[0].GetCertificateChain())
		if err != nil {
			return nil, fmt.Errorf("tls_certificates[0].certificate_chain: %w", err)
		}
		key, err := readSource(certs[0].GetPrivateKey())
		if err != nil {
			return nil, fmt.Errorf("tls_certificates[0].private_key: %w", err)
		}
		pair, err := tls.X509KeyPair(chain, key)
		if err != nil {
			return nil, fmt.Errorf("tls_certificates[0]: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
		digest = append(append(digest, chain...), key...)
	}
	return &UpstreamTLS{Config: cfg, Digest: string(digest)}, nil
}

// dnsNames reads SAN matchers that are all DNS exact matches.
func dnsNames(matchers []*tlsv3.SubjectAltNameMatcher) ([]string, error) {
	var names []string
	for _, m := range matchers {
		exact, ok := m.GetMatcher().GetMatchPattern().(*matcherv3.StringMatcher_Exact)
		if m.GetSanType() != tlsv3.SubjectAltNameMatcher_DNS || !ok || m.GetMatcher().GetIgnoreCase() {
			return nil, errors.New("subject alt name matchers other than DNS exact")
		}
		names = append(names, exact.Exact)
	}
	return names, nil
}

// verifyServer verifies the server's chain against roots and, when names is not empty, that a
// DNS name of its certificate is one of them (Envoy: any matcher matching any SAN).
func verifyServer(cs tls.ConnectionState, roots *x509.CertPool, names []string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the upstream sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	leaf := cs.PeerCertificates[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
		return fmt.Errorf("the upstream's certificate: %w", err)
	}
	if len(names) > 0 && !slices.ContainsFunc(leaf.DNSNames, func(n string) bool { return slices.Contains(names, n) }) {
		return fmt.Errorf("the upstream's certificate names %v, none of %v", leaf.DNSNames, names)
	}
	return nil
}

// readSource reads a DataSource: a file, inline bytes or an inline string. Environment
// variables are not executed.
func readSource(ds *corev3.DataSource) ([]byte, error) {
	switch s := ds.GetSpecifier().(type) {
	case *corev3.DataSource_Filename:
		b, err := os.ReadFile(s.Filename)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.Filename, err)
		}
		return b, nil
	case *corev3.DataSource_InlineBytes:
		return s.InlineBytes, nil
	case *corev3.DataSource_InlineString:
		return []byte(s.InlineString), nil
	}
	return nil, errors.New("a data source other than a file or inline data")
}
