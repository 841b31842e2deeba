package testpki

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
)

// TestHandshake serves TLS with a server certificate that demands a client certificate, and
// dials it with the CA and a client certificate; without the client certificate it is refused.
func TestHandshake(t *testing.T) {
	ca := New(t)
	server, client := ca.Server(t, "server", "127.0.0.1"), ca.Client(t, "client")
	pem, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("the CA file holds no certificate")
	}
	sc, err := tls.LoadX509KeyPair(server.CertFile, server.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{sc}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			_, _ = c.Write([]byte("ok"))
			_ = c.Close()
		}
	}()
	cc, err := tls.LoadX509KeyPair(client.CertFile, client.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	dial := func(certs []tls.Certificate) error {
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, Certificates: certs})
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Read(make([]byte, 2))
		return err
	}
	if err := dial([]tls.Certificate{cc}); err != nil {
		t.Fatalf("with the client certificate: %v", err)
	}
	if err := dial(nil); err == nil {
		t.Fatal("a client without a certificate was accepted")
	}
}
