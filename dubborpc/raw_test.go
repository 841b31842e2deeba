package dubborpc

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
)

// TestInBackoff: an endpoint whose dial failed is in backoff until the backoff has passed; a
// fresh endpoint is not.
func TestInBackoff(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more: dials are refused
	c := New(Options{ReconnectBackoff: time.Hour})
	defer c.Close()
	ep := c.Endpoint(addr)
	if ep.InBackoff() {
		t.Fatal("fresh endpoint reported in backoff")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = ep.Invoke(ctx, Request{Interface: "x", Method: "m"})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("call to a closed port: %v, want ErrUnavailable", err)
	}
	if !ep.InBackoff() {
		t.Error("endpoint whose dial failed not reported in backoff")
	}
	c.CloseEndpoint(addr)
	if c.Endpoint(addr).InBackoff() {
		t.Error("endpoint created again after CloseEndpoint reported in backoff")
	}
}

// TestEncodeArgsAsEncoder: each Triple argument written by appendArg is the Encoder's bytes.
func TestEncodeArgsAsEncoder(t *testing.T) {
	req := GenericRequest("a.B", "1", "", "m", []string{"java.lang.String", "int", "long"},
		[]any{"héllo", RawArg{0x91}, int64(1) << 40}, nil)
	got, err := EncodeArgs(req)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range req.Args {
		enc := hessian.NewEncoder()
		if err := encodeArg(enc, a); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[i], enc.Buffer()) {
			t.Errorf("argument %d:\n got % x\nwant % x", i, got[i], enc.Buffer())
		}
	}
	if v, err := DecodeValue(got[0]); err != nil || v != "m" {
		t.Errorf("DecodeValue of the method name: %#v, %v", v, err)
	}
}
