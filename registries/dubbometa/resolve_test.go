package dubbometa

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
)

// summary renders services one line each: name protocol methods [endpoints with labels].
func summary(services []registries.Service) []string {
	var out []string
	for _, s := range services {
		var eps []string
		for _, ep := range s.Endpoints {
			eps = append(eps, fmt.Sprintf("%s:%d w=%d %v", ep.Address, ep.Port, ep.Weight, ep.Labels))
		}
		out = append(out, fmt.Sprintf("%s %s %s %s", s.Name, s.Protocol, strings.Join(s.Methods, ","), strings.Join(eps, "; ")))
	}
	return out
}

func shopInstance(ip, rev, endpoints string) Instance {
	md := map[string]string{KeyRevision: rev}
	if endpoints != "" {
		md[KeyEndpoints] = endpoints
	}
	return Instance{App: "shop", Address: ip, Port: 20880, Metadata: md, Subject: "shop " + ip,
		Endpoint: registries.Endpoint{Weight: 7, Healthy: true, Locality: registries.Locality{Zone: "z1"},
			Labels: map[string]string{"registry.own": "x"}}}
}

func TestResolve(t *testing.T) {
	const both = `[{"port":20881,"protocol":"dubbo"},{"port":50051,"protocol":"tri"}]`
	instances := []Instance{
		shopInstance("10.0.0.1", "r1", both),
		shopInstance("10.0.0.2", "r1", both),
		shopInstance("10.0.0.1", "r1", both), // listed twice: one endpoint
		shopInstance("10.0.0.3", "r2", ""),
		shopInstance("10.0.0.4", "r3", ""),
		shopInstance("10.0.0.5", "r3", ""),
		shopInstance("10.0.0.6", "", ""),
	}
	cache := Cache{
		{App: "shop", Revision: "r1"}: {Fetched: true, Services: []ServiceInfo{
			{Name: "com.shop.Cart", Version: "1.0.0", Group: "g", Protocol: "dubbo", Port: 20880,
				Params: map[string]string{"methods": "list,add,Add", "timeout": "3000", "add.timeout": "250", "add.retries": "0", "pid": "1"}},
			{Name: "com.shop.Cart", Version: "1.0.0", Group: "g", Protocol: "tri"},
			{Name: "com.shop.Rest", Protocol: "rest", Port: 8080},
			{Name: "com.shop.Grpc", Protocol: "grpc"}, // no grpc port anywhere
			{Name: "com.shop.Thrift", Protocol: "thrift", Port: 9090},
			{Name: "com.shop.Skipped", Protocol: "dubbo"},
		}},
		{App: "shop", Revision: "r2"}: {Fetched: true, Services: []ServiceInfo{{Name: "com.shop.Cart", Version: "1.0.0", Group: "g", Protocol: "dubbo"}}},
		{App: "shop", Revision: "r3"}: {Err: errors.New("connection refused"), Failures: 2},
	}
	services, pending, diags := Resolve("registry/r", instances, cache, func(iface string) bool { return iface == "com.shop.Skipped" })

	const (
		r1  = "map[application:shop dubbo.metadata.revision:r1 group:g registry.own:x version:1.0.0]"
		r2  = "map[application:shop dubbo.metadata.revision:r2 group:g registry.own:x version:1.0.0]"
		r1n = "map[application:shop dubbo.metadata.revision:r1 registry.own:x]" // no version, no group
	)
	want := []string{
		"providers:com.shop.Cart:1.0.0:g dubbo add,list 10.0.0.1:20881 w=7 " + r1 + "; 10.0.0.2:20881 w=7 " + r1 + "; 10.0.0.3:20880 w=7 " + r2,
		"providers:com.shop.Cart:1.0.0:g:triple triple  10.0.0.1:50051 w=7 " + r1 + "; 10.0.0.2:50051 w=7 " + r1,
		"providers:com.shop.Rest:: http  10.0.0.1:8080 w=7 " + r1n + "; 10.0.0.2:8080 w=7 " + r1n,
	}
	if got := summary(services); !slices.Equal(got, want) {
		t.Errorf("services:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if len(services) > 0 {
		cart := services[0]
		if md := cart.Metadata; len(md) != 4 || md["timeout"] != "3000" || md["add.timeout"] != "250" ||
			md[Registration] != RegistrationApplication || md["application"] != "shop" {
			t.Errorf("metadata = %v, want timeout, add.timeout, registration and application", md)
		}
		if ep := cart.Endpoints[0]; !ep.Healthy || ep.Locality.Zone != "z1" {
			t.Errorf("the registry's endpoint attributes were lost: %+v", ep)
		}
		if instances[0].Endpoint.Labels["application"] != "" {
			t.Error("Resolve wrote into the instance's labels")
		}
	}
	var pendingIPs []string
	for _, in := range pending {
		pendingIPs = append(pendingIPs, in.Address)
	}
	if want := []string{"10.0.0.4", "10.0.0.5", "10.0.0.6"}; !slices.Equal(pendingIPs, want) {
		t.Errorf("pending = %v, want %v", pendingIPs, want)
	}
	wantDiags := []string{
		"shop 10.0.0.1: instance has no grpc port; not an endpoint of com.shop.Grpc",
		"shop 10.0.0.2: instance has no grpc port; not an endpoint of com.shop.Grpc",
		"shop 10.0.0.1: instance has no grpc port; not an endpoint of com.shop.Grpc",
		"shop 10.0.0.4: MetadataService call for revision r3 failed 2 time(s): connection refused; retrying, the instances stay published as a placeholder meanwhile",
	}
	var gotDiags []string
	for _, d := range diags {
		if d.Severity != diag.Warning || d.Stage != "registry/r" {
			t.Errorf("diagnostic %+v", d)
		}
		gotDiags = append(gotDiags, d.Subject+": "+d.Message)
	}
	if !slices.Equal(gotDiags, wantDiags) {
		t.Errorf("diagnostics:\n  %s\nwant:\n  %s", strings.Join(gotDiags, "\n  "), strings.Join(wantDiags, "\n  "))
	}
}

func TestPlaceholder(t *testing.T) {
	shell := registries.Service{Name: "shop", Metadata: map[string]string{"k": "v"}}
	triOnly := `[{"port":50051,"protocol":"tri"}]`
	svc, diags := Placeholder("registry/r", shell, []Instance{
		shopInstance("10.0.0.2", "r1", triOnly),
		shopInstance("10.0.0.1", "", ""),
		shopInstance("10.0.0.1", "r2", ""), // the same address again
	})
	if got := summary([]registries.Service{svc}); !slices.Equal(got, []string{
		"shop dubbo  10.0.0.1:20880 w=7 map[application:shop registry.own:x]"}) {
		t.Errorf("placeholder = %v", got)
	}
	if svc.Metadata["k"] != "v" {
		t.Errorf("the adapter's metadata was lost: %v", svc.Metadata)
	}
	if len(diags) != 1 || diags[0].Subject != "shop 10.0.0.2" || !strings.Contains(diags[0].Message, "no dubbo endpoint; not an endpoint of shop") {
		t.Errorf("diagnostics = %v", diags)
	}

	svc, diags = Placeholder("registry/r", shell, []Instance{shopInstance("10.0.0.2", "r1", triOnly)})
	if svc.Protocol != registries.ProtocolTriple || len(svc.Endpoints) != 1 || svc.Endpoints[0].Port != 50051 || len(diags) != 0 {
		t.Errorf("triple-only placeholder = %+v, %v", svc, diags)
	}
}
