package dubborpc

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
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
