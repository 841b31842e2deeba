package nacos

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
)

// All tests here run the real Nacos SDK against nacosdouble: a protocol-level double of the
// Nacos 2.x naming gRPC API, not a Nacos server (no config service, cluster, auth or
// persistence). What they prove is the adapter's use of the SDK and of the wire protocol as
// the double implements it.
//
// Under -race, TestServerOutage reports a data race inside the SDK itself (nacos-sdk-go
// v2.3.5: RpcClient.currentConnection is written by reconnect and read by
// notifyConnectionEvent on two of its goroutines without a lock), not in this package.

// TestDubboAndPlainServices reads interface-level Dubbo providers from two namespaces and two
// groups (split by Dubbo version and group, merged across namespaces), a plain gRPC service,
// a plain HTTP service, skips consumers and ignores an unconfigured group. Against a
// protocol-level double, not a Nacos server.
func TestDubboAndPlainServices(t *testing.T) {
	d := nacosdouble.Start(t)
	withWeight := func(in nacosdouble.Instance, w float64) nacosdouble.Instance { in.Weight = w; return in }
	inCluster := func(in nacosdouble.Instance, c string) nacosdouble.Instance { in.Cluster = c; return in }
	d.Register("", "", "providers:com.foo.Greeter:1.0.0:",
		nacosdouble.NewInstance("10.0.0.1", 20880, dubboProvider("com.foo.Greeter", "1.0.0", "", "dubbo", "weight", "0")),
		inCluster(nacosdouble.NewInstance("10.0.0.2", 20880, dubboProvider("com.foo.Greeter", "1.0.0", "", "dubbo", "weight", "50")), "hz"))
	d.Register("", "", "providers:com.foo.Greeter:2.0.0:blue",
		nacosdouble.NewInstance("10.0.0.3", 20880, dubboProvider("com.foo.Greeter", "2.0.0", "blue", "dubbo")))
	d.Register("dev", "G2", "providers:com.foo.Greeter:1.0.0:",
		nacosdouble.NewInstance("10.1.0.1", 20880, dubboProvider("com.foo.Greeter", "1.0.0", "", "dubbo")))
	d.Register("dev", "G2", "providers:com.foo.Billing::",
		nacosdouble.NewInstance("10.1.0.2", 50051, dubboProvider("com.foo.Billing", "", "", "tri", "methods", "charge")))
	d.Register("", "", "consumers:com.foo.Greeter:1.0.0:",
		nacosdouble.NewInstance("10.0.0.9", 0, map[string]string{"side": "consumer"}))
	d.Register("", "G2", "greeter-grpc",
		withWeight(nacosdouble.NewInstance("10.0.0.4", 9090, map[string]string{"protocol": "grpc", "grpc-service": "helloworld.Greeter"}), 2.5))
	d.Register("dev", "", "web", nacosdouble.NewInstance("10.1.0.3", 8080, map[string]string{"env": "dev"}))
	d.Register("", "G3", "not-watched", nacosdouble.NewInstance("10.0.0.5", 1, nil))

	rec := startSource(t, d, Config{Namespaces: []string{"", "dev"}, Groups: []string{"DEFAULT_GROUP", "G2"}})
	snap, _ := rec.WaitFrom(t, "the first snapshot", 0, func(s registries.Snapshot) bool { return s.Synced })
	want := []string{
		"greeter-grpc grpc helloworld.Greeter:: methods= [10.0.0.4:9090 w=250 healthy=true zone=DEFAULT ns=public g=G2]",
		"providers:com.foo.Billing:: triple com.foo.Billing:: methods=charge [10.1.0.2:50051 w=100 healthy=true zone=DEFAULT ns=dev g=G2]",
		"providers:com.foo.Greeter:1.0.0: dubbo com.foo.Greeter:1.0.0: methods=sayBye,sayHello [" +
			"10.0.0.1:20880 w=100 healthy=true zone=DEFAULT ns=public g=DEFAULT_GROUP; " +
			"10.0.0.2:20880 w=50 healthy=true zone=hz ns=public g=DEFAULT_GROUP; " +
			"10.1.0.1:20880 w=100 healthy=true zone=DEFAULT ns=dev g=G2]",
		"providers:com.foo.Greeter:2.0.0:blue dubbo com.foo.Greeter:2.0.0:blue methods=sayBye,sayHello [10.0.0.3:20880 w=100 healthy=true zone=DEFAULT ns=public g=DEFAULT_GROUP]",
		"web http :: methods= [10.1.0.3:8080 w=100 healthy=true zone=DEFAULT ns=dev g=DEFAULT_GROUP]",
	}
	if got := summarize(snap); !slices.Equal(got, want) {
		t.Fatalf("services:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if snap.Stale || len(snap.Diagnostics) != 0 {
		t.Errorf("stale=%t diagnostics=%v, want a fresh snapshot without diagnostics", snap.Stale, snap.Diagnostics)
	}
	greeter := snap.Services[2]
	if greeter.Metadata["timeout"] != "3000" || greeter.Metadata["application"] != "demo-provider" || greeter.Metadata["weight"] != "" {
		t.Errorf("Greeter metadata = %v, want the shared provider params (timeout, application) without per-endpoint ones", greeter.Metadata)
	}
	if web := snap.Services[4]; web.Endpoints[0].Labels["env"] != "dev" {
		t.Errorf("web endpoint labels = %v, want the instance metadata", web.Endpoints[0].Labels)
	}
}

// TestPaging lists more services than one page holds. Against a protocol-level double, not a
// Nacos server.
func TestPaging(t *testing.T) {
	d := nacosdouble.Start(t)
	for i := range 25 {
		d.Register("", "", fmt.Sprintf("svc-%02d", i), nacosdouble.NewInstance("10.0.0.1", uint64(8000+i), nil))
	}
	rec := startSource(t, d, Config{PageSize: 10})
	snap, _ := rec.WaitFrom(t, "the first snapshot", 0, func(s registries.Snapshot) bool { return s.Synced })
	if len(snap.Services) != 25 || snap.Services[0].Name != "svc-00" || snap.Services[24].Name != "svc-24" {
		t.Fatalf("got %d services (%v), want svc-00..svc-24 from three pages", len(snap.Services), summarize(snap))
	}
}

// TestPushesFollowed follows instances added and removed by server pushes, including the push
// of the last instance leaving, and a service that is no longer listed (unsubscribed). Against
// a protocol-level double, not a Nacos server.
func TestPushesFollowed(t *testing.T) {
	d := nacosdouble.Start(t)
	a := nacosdouble.NewInstance("10.0.0.1", 8080, nil)
	b := nacosdouble.NewInstance("10.0.0.2", 8080, nil)
	d.Register("", "", "web", a)
	d.Register("", "", "other", a)
	rec := startSource(t, d, Config{ResyncInterval: yamltime.Duration(200 * time.Millisecond)})
	_, n := rec.WaitFrom(t, "web with one endpoint", 0, func(s registries.Snapshot) bool {
		return slices.Equal(endpointsOf(s, "web"), []string{"10.0.0.1:8080"})
	})
	d.Register("", "", "web", b)
	_, n = rec.WaitFrom(t, "web with two endpoints", n, func(s registries.Snapshot) bool {
		return slices.Equal(endpointsOf(s, "web"), []string{"10.0.0.1:8080", "10.0.0.2:8080"})
	})
	d.Deregister("", "", "web", a)
	_, n = rec.WaitFrom(t, "web with the second endpoint only", n, func(s registries.Snapshot) bool {
		return slices.Equal(endpointsOf(s, "web"), []string{"10.0.0.2:8080"})
	})
	d.Deregister("", "", "web", b)
	snap, n := rec.WaitFrom(t, "web gone with its last instance", n, func(s registries.Snapshot) bool {
		return endpointsOf(s, "web") == nil
	})
	if !slices.Equal(endpointsOf(snap, "other"), []string{"10.0.0.1:8080"}) {
		t.Errorf("other = %v, want it untouched", endpointsOf(snap, "other"))
	}
	if got := d.Subscribers("", "", "other"); got != 1 {
		t.Fatalf("subscribers of other = %d, want 1", got)
	}
	d.DeleteService("", "", "other")
	rec.WaitFrom(t, "other gone once no longer listed", n, func(s registries.Snapshot) bool {
		return endpointsOf(s, "other") == nil
	})
	deadline := time.Now().Add(20 * time.Second)
	for d.Subscribers("", "", "other") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting for the unsubscription of other to reach the server")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMalformedInstances skips bad instances with a diagnostic and keeps their good siblings;
// an application-level Dubbo service is published as its application. Against a
// protocol-level double, not a Nacos server.
func TestMalformedInstances(t *testing.T) {
	d := nacosdouble.Start(t)
	huge := map[string]string{"protocol": "grpc", "blob": strings.Repeat("x", MaxMetadataBytes+1)}
	d.Register("", "", "api",
		nacosdouble.NewInstance("10.0.0.1", 9090, map[string]string{"protocol": "grpc"}),
		nacosdouble.NewInstance("10.0.0.2", 0, map[string]string{"protocol": "grpc"}),
		nacosdouble.NewInstance("10.0.0.3", 70000, map[string]string{"protocol": "grpc"}),
		nacosdouble.NewInstance("10.0.0.4", 9090, huge),
		nacosdouble.NewInstance("10.0.0.5", 9090, map[string]string{"protocol": "thrift"}))
	app := func(ip, endpoints string) nacosdouble.Instance {
		return nacosdouble.NewInstance(ip, 20880, map[string]string{
			"dubbo.metadata.revision": "abc123", "dubbo.metadata.storage-type": "local", "dubbo.endpoints": endpoints})
	}
	d.Register("", "", "shop-app",
		app("10.0.1.1", `[{"port":20880,"protocol":"dubbo"},{"port":50051,"protocol":"tri"}]`),
		app("10.0.1.2", `[{"port":20880,`))
	d.Register("", "", "providers:::", nacosdouble.NewInstance("10.0.2.1", 20880, nil))

	rec := startSource(t, d, Config{})
	snap, _ := rec.WaitFrom(t, "the first snapshot", 0, func(s registries.Snapshot) bool { return s.Synced })
	want := []string{
		"api grpc :: methods= [10.0.0.1:9090 w=100 healthy=true zone=DEFAULT ns=public g=DEFAULT_GROUP]",
		"shop-app dubbo :: methods= [10.0.1.1:20880 w=100 healthy=true zone=DEFAULT ns=public g=DEFAULT_GROUP]",
	}
	if got := summarize(snap); !slices.Equal(got, want) {
		t.Fatalf("services:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	wantDiags := []struct {
		severity diag.Severity
		subject  string
		message  string
	}{
		{diag.Warning, "public/DEFAULT_GROUP/api 10.0.0.2:0", "port 0 is not 1..65535"},
		{diag.Warning, "public/DEFAULT_GROUP/api 10.0.0.3:70000", "port 70000 is not 1..65535"},
		{diag.Warning, "public/DEFAULT_GROUP/api 10.0.0.4:9090", "bytes of metadata, over the 65536-byte limit"},
		{diag.Warning, "public/DEFAULT_GROUP/api 10.0.0.5:9090", `protocol "thrift" is not served`},
		{diag.Warning, "public/DEFAULT_GROUP/providers:::", "has no interface"},
		{diag.Info, "public/DEFAULT_GROUP/shop-app", "MetadataService"},
		{diag.Warning, "public/DEFAULT_GROUP/shop-app 10.0.1.2:20880", "dubbo.endpoints is not a JSON list"},
	}
	for _, w := range wantDiags {
		found := slices.ContainsFunc(snap.Diagnostics, func(d diag.Diagnostic) bool {
			return d.Severity == w.severity && d.Subject == w.subject && d.Stage == "registry/nacos1" &&
				strings.Contains(d.Message, w.message)
		})
		if !found {
			t.Errorf("no %s diagnostic for %s containing %q; got:\n%v", w.severity, w.subject, w.message, snap.Diagnostics)
		}
	}
	if len(snap.Diagnostics) != len(wantDiags) {
		t.Errorf("got %d diagnostics, want %d: %v", len(snap.Diagnostics), len(wantDiags), snap.Diagnostics)
	}
}

// TestServerOutage publishes the last known services as stale while the server is down, and
// converges to the server's state once it is back (changed while it was down). Against a
// protocol-level double, not a Nacos server.
func TestServerOutage(t *testing.T) {
	d := nacosdouble.Start(t)
	d.Register("", "", "web", nacosdouble.NewInstance("10.0.0.1", 8080, nil))
	d.Register("", "", "api", nacosdouble.NewInstance("10.0.0.2", 9090, map[string]string{"protocol": "grpc"}))
	rec := startSource(t, d, Config{})
	first, n := rec.WaitFrom(t, "the first snapshot", 0, func(s registries.Snapshot) bool { return s.Synced })

	d.Stop()
	stale, n := rec.WaitFrom(t, "a stale snapshot", n, func(s registries.Snapshot) bool { return s.Stale })
	if got, want := summarize(stale), summarize(first); !slices.Equal(got, want) {
		t.Fatalf("stale services:\n  %s\nwant the last known:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	d.SetInstances("", "", "web", nacosdouble.NewInstance("10.0.0.3", 8080, nil))
	d.Register("", "", "new", nacosdouble.NewInstance("10.0.0.4", 8080, nil))
	d.Restart()
	rec.WaitFrom(t, "a fresh snapshot with the changes made while down", n, func(s registries.Snapshot) bool {
		return !s.Stale && s.Synced &&
			slices.Equal(endpointsOf(s, "web"), []string{"10.0.0.3:8080"}) &&
			slices.Equal(endpointsOf(s, "new"), []string{"10.0.0.4:8080"}) &&
			slices.Equal(endpointsOf(s, "api"), []string{"10.0.0.2:9090"})
	})
}
