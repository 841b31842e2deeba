package controlplane

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/testpki"
)

func certPool(t *testing.T, file string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

func keyPair(t *testing.T, p testpki.Pair) tls.Certificate {
	t.Helper()
	c, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRequireClientCertRefusesAnonymousClients: over TLS with RequireClientCert, an ADS stream
// of a client without a certificate ends with Unauthenticated and carries no resource; a
// client with a certificate of the client CA gets the clusters.
func TestRequireClientCertRefusesAnonymousClients(t *testing.T) {
	ca := testpki.New(t)
	serverTLS := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{keyPair(t, ca.Server(t, "xds", "127.0.0.1"))},
		ClientCAs: certPool(t, ca.CAFile), ClientAuth: tls.VerifyClientCertIfGiven}
	srv := NewServer(ServerOptions{TLS: serverTLS, RequireClientCert: true})
	if err := srv.Update(ir.Gateway{Clusters: []ir.Cluster{httpCluster("http:a", 1, 8080)}}); err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	stream := func(cert *tls.Certificate) (*discoveryv3.DeltaDiscoveryResponse, error) {
		cfg := &tls.Config{RootCAs: certPool(t, ca.CAFile)}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		sctx, stop := context.WithTimeout(context.Background(), giveUp)
		defer stop()
		s, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(sctx)
		if err != nil {
			return nil, err
		}
		// A Send on a stream the server ended returns io.EOF; Recv then has the status.
		_ = s.Send(&discoveryv3.DeltaDiscoveryRequest{Node: testNode("tls"), TypeUrl: resource.ClusterType})
		return s.Recv()
	}

	resp, err := stream(nil)
	if status.Code(err) != codes.Unauthenticated || resp != nil {
		t.Errorf("without a client certificate: %v, %v; want Unauthenticated and nothing", resp, err)
	}
	cert := keyPair(t, ca.Client(t, "gateway"))
	resp, err = stream(&cert)
	if err != nil || len(resp.GetResources()) != 1 {
		t.Errorf("with a client certificate: %v, %v; want the cluster", resp, err)
	}
	foreign := keyPair(t, testpki.New(t).Client(t, "intruder"))
	if _, err := stream(&foreign); err == nil {
		t.Error("a client certificate of another CA was accepted")
	}
}
