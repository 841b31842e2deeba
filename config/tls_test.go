package config

import (
	"errors"
	"testing"
)

// TestTLSProblemsAreBlamed: the problems of a TLS block carry its file, line and key.
func TestTLSProblemsAreBlamed(t *testing.T) {
	_, err := Parse("rpcbridge.yaml", []byte(`xds:
  tls:
    requireClientCert: true
gateway:
  tls:
    certificates:
      - {certFile: a.crt}
`))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("err %v, want *Error", err)
	}
	want := map[string]int{"xds.tls.requireClientCert": 3, "gateway.tls.certificates[0].keyFile": 7}
	for _, p := range cerr.Problems {
		if line, ok := want[p.Key]; ok && line == p.Line {
			delete(want, p.Key)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing problems %v in:\n%v", want, err)
	}
}
