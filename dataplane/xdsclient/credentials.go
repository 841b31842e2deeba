package xdsclient

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// Credentials secure the connections to the control plane: where TLS, a client certificate
// (mTLS) and a bearer token plug in. The zero value is plaintext without call credentials,
// which suits loopback and trusted networks only.
//
// The same credentials serve every server in Config.Servers. A TLS configuration without a
// ServerName verifies each server against the host of its own address, as grpc-go does for
// any target.
type Credentials struct {
	// Transport secures the connection, e.g. credentials.NewTLS with the CA and, for mTLS, a
	// client certificate. nil means plaintext.
	Transport credentials.TransportCredentials
	// PerRPC attaches call credentials, e.g. an "authorization: Bearer ..." header, to every
	// stream. nil attaches none. grpc-go refuses to send credentials whose
	// RequireTransportSecurity is true over a plaintext connection.
	PerRPC credentials.PerRPCCredentials
}

// dialOptions are the grpc options that apply c.
func (c Credentials) dialOptions() []grpc.DialOption {
	transport := c.Transport
	if transport == nil {
		transport = insecure.NewCredentials()
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(transport)}
	if c.PerRPC != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(c.PerRPC))
	}
	return opts
}
