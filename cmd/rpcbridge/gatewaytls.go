package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/credentials"

	"github.com/rpcbridge/rpcbridge/internal/tlsfiles"
)

// gatewayTLSFlags are the TLS flags of `rpcbridge gateway`: its HTTP listener's certificates
// and the client side of its xDS connections.
type gatewayTLSFlags struct {
	certFiles, keyFiles []string
	clientCAFile        string
	xds                 tlsfiles.Client
}

// addGatewayTLSFlags defines the flags on cmd.
func addGatewayTLSFlags(cmd *cobra.Command, f *gatewayTLSFlags) {
	cmd.Flags().StringArrayVar(&f.certFiles, "tls-cert-file", nil,
		"certificate (PEM) of the HTTP listener, served as HTTPS with HTTP/2; repeat it with --tls-key-file for several certificates, chosen by SNI (the first is the default)")
	cmd.Flags().StringArrayVar(&f.keyFiles, "tls-key-file", nil, "key (PEM) of the --tls-cert-file at the same position")
	cmd.Flags().StringVar(&f.clientCAFile, "tls-client-ca-file", "", "CA bundle (PEM) that client certificates must chain to; set, the HTTP listener requires them")
	cmd.Flags().StringVar(&f.xds.CAFile, "xds-ca-file", "", "CA bundle (PEM) of the control planes' certificates; any --xds-* flag turns TLS on for xDS")
	cmd.Flags().StringVar(&f.xds.CertFile, "xds-cert-file", "", "client certificate (PEM) presented to the control planes (mTLS)")
	cmd.Flags().StringVar(&f.xds.KeyFile, "xds-key-file", "", "key (PEM) of --xds-cert-file")
	cmd.Flags().StringVar(&f.xds.ServerName, "xds-server-name", "", "name the control planes' certificates are verified against (default: the host of each --xds address)")
}

// listener is the HTTP listener's TLS block made of the flags; it is off without certificates.
func (f gatewayTLSFlags) listener() (tlsfiles.Server, error) {
	if len(f.certFiles) != len(f.keyFiles) {
		return tlsfiles.Server{}, usageError{fmt.Errorf("--tls-cert-file given %d times, --tls-key-file %d times: give them in pairs", len(f.certFiles), len(f.keyFiles))}
	}
	s := tlsfiles.Server{ClientCAFile: f.clientCAFile, RequireClientCert: f.clientCAFile != ""}
	for i := range f.certFiles {
		s.Certificates = append(s.Certificates, tlsfiles.Pair{CertFile: f.certFiles[i], KeyFile: f.keyFiles[i]})
	}
	if err := s.Validate(); err != nil {
		return s, usageError{fmt.Errorf("--tls-*: %w", err)}
	}
	if err := f.xds.Validate(); err != nil {
		return s, usageError{fmt.Errorf("--xds-*: %w", err)}
	}
	return s, nil
}

// load reads the files: the listener's configuration (nil: plaintext), reloaded until ctx ends,
// and the xDS transport credentials (nil: plaintext).
func (f gatewayTLSFlags) load(ctx context.Context, log *slog.Logger) (*tls.Config, credentials.TransportCredentials, error) {
	spec, err := f.listener()
	if err != nil {
		return nil, nil, err
	}
	var lis *tls.Config
	if spec.Enabled() {
		if lis, err = spec.Load(ctx, log.With("listener", "gateway")); err != nil {
			return nil, nil, fmt.Errorf("--tls-cert-file: %w", err)
		}
	}
	cfg, err := f.xds.Config()
	if err != nil {
		return nil, nil, fmt.Errorf("--xds-ca-file/--xds-cert-file: %w", err)
	}
	if cfg == nil {
		return lis, nil, nil
	}
	return lis, credentials.NewTLS(cfg), nil
}
