package dataplane_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// TestIdentityHeadersCannotBeForged: a policy's identity headers (which only its authentication
// may set) sent by the client are removed before the request reaches any kind of upstream — the
// HTTP echo server, the grpc-go bookstore's metadata and the dubbo-go provider's attachments —
// while other headers still arrive.
func TestIdentityHeadersCannotBeForged(t *testing.T) {
	s := startForwardingStack(t)
	g := s.base
	g.Routes = nil
	for _, r := range s.base.Routes {
		r.Policy = &ir.EdgePolicy{Name: "partners", IdentityHeaders: []string{"x-client-id", "x-user-sub"}}
		g.Routes = append(g.Routes, r)
	}
	if err := s.xds.Update(g); err != nil {
		t.Fatal(err)
	}
	forged := http.Header{"X-User-Sub": {"admin"}, "X-Client-Id": {"root"}, "X-Tenant": {"t1"}}
	for _, path := range []string{httpPath, grpcPath, dubboAllPath} {
		eventuallyStripped := func() http.Header {
			got, _ := s.seen(t, path, forged)
			return got
		}
		var got http.Header
		eventually(t, path+" strips identity headers", func() error {
			got = eventuallyStripped()
			if got.Get("X-User-Sub") != "" || got.Get("X-Client-Id") != "" {
				return fmt.Errorf("upstream saw x-user-sub=%q x-client-id=%q", got.Get("X-User-Sub"), got.Get("X-Client-Id"))
			}
			return nil
		})
		if got.Get("X-Tenant") != "t1" {
			t.Errorf("%s: x-tenant = %q, want t1 (only identity headers are removed)", path, got.Get("X-Tenant"))
		}
	}
}

// TestClientAddressHeaderReachesEveryUpstream: a policy's client-address header carries the
// client's address (loopback here, the connection's peer: the gateway trusts no
// X-Forwarded-For hop by default) to the HTTP echo server, the grpc-go bookstore's metadata and
// the dubbo-go provider's attachments; a value the client sent under that name is replaced, not
// kept beside it.
func TestClientAddressHeaderReachesEveryUpstream(t *testing.T) {
	s := startForwardingStack(t)
	g := s.base
	g.Routes = nil
	for _, r := range s.base.Routes {
		r.Policy = &ir.EdgePolicy{Name: "partners", IdentityHeaders: []string{"x-client-ip"}, ClientAddressHeader: "x-client-ip"}
		g.Routes = append(g.Routes, r)
	}
	if err := s.xds.Update(g); err != nil {
		t.Fatal(err)
	}
	forged := http.Header{"X-Client-Ip": {"203.0.113.9"}, "X-Forwarded-For": {"198.51.100.7"}}
	for _, path := range []string{httpPath, grpcPath, dubboAllPath} {
		eventually(t, path+" carries the client address", func() error {
			got, _ := s.seen(t, path, forged)
			if v := got.Values("X-Client-Ip"); len(v) != 1 || v[0] != "127.0.0.1" {
				return fmt.Errorf("upstream saw x-client-ip=%q, want exactly [127.0.0.1]", v)
			}
			return nil
		})
	}
}
