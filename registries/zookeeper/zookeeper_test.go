package zookeeper

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"

	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

const greeter = "com.foo.Greeter"

func greeterURL(hostPort, query string) string {
	return "dubbo://" + hostPort + "/" + greeter + "?interface=" + greeter + "&application=demo&dubbo=2.0.2" +
		"&release=3.3.2&side=provider&serialization=hessian2&timeout=3000&" + query
}

func hasDiag(s registries.Snapshot, subjectPart, messagePart string) bool {
	for _, d := range s.Diagnostics {
		if d.Stage == "registry/zk1" && strings.Contains(d.Subject, subjectPart) && strings.Contains(d.Message, messagePart) {
			return true
		}
	}
	return false
}

func TestInterfaceLevelProviders(t *testing.T) {
	server := zkpeer.Start(t)
	w := newWriter(t, server.Addr())
	w.provider(greeter, greeterURL("10.0.0.1:20880", "version=1.0.0&group=g&methods=sayHello,sayBye&weight=0&pid=1&timestamp=1"))
	w.provider(greeter, greeterURL("10.0.0.2:20880", "version=1.0.0&group=g&methods=sayHello,sayBye&weight=50&pid=2&timestamp=2&disabled=true"))
	w.provider(greeter, greeterURL("10.0.0.2:20880", "version=1.0.0&group=g&methods=sayHello,sayBye&weight=50&pid=2&timestamp=3"))
	w.provider(greeter, "tri://10.0.0.3:50051/"+greeter+"?interface="+greeter+"&version=2.0.0&methods=sayHello")
	w.provider(greeter, "dubbo://10.0.0.4:0/"+greeter+"?interface="+greeter+"&version=1.0.0&group=g")
	w.provider(greeter, "dubbo://10.0.0.5:20880/"+greeter+"?interface="+greeter+"&version=1.0.0&group=g&big="+strings.Repeat("x", 70<<10))
	w.put("/dubbo/"+greeter+"/providers/dubbo%3A%2F%2F10.0.0.6%3A1%2Fx%3Fk%3D%25zz", "", zk.FlagEphemeral)
	w.put("/dubbo/config/dubbo/x.configurators", "", 0)
	w.put("/dubbo/metadata/"+greeter+"/provider/demo", `{"methods":[{"name":"m"}]}`, 0)

	rec := runSource(t, server.Addr())
	snap := rec.WaitFor(t, "both greeter services", func(s registries.Snapshot) bool {
		_, v1 := registrytest.Service(s, "providers:com.foo.Greeter:1.0.0:g")
		_, v2 := registrytest.Service(s, "providers:com.foo.Greeter:2.0.0:")
		return s.Synced && v1 && v2
	})
	if len(snap.Services) != 2 {
		t.Fatalf("want exactly the two greeter services (config and metadata skipped), got:\n%s", registrytest.Dump(snap))
	}
	v1, _ := registrytest.Service(snap, "providers:com.foo.Greeter:1.0.0:g")
	if v1.Protocol != registries.ProtocolDubbo || v1.Interface != greeter || v1.Version != "1.0.0" || v1.Group != "g" {
		t.Errorf("v1 identity: %+v", v1)
	}
	if !slices.Equal(v1.Methods, []string{"sayBye", "sayHello"}) {
		t.Errorf("v1 methods = %v", v1.Methods)
	}
	if endpointSet(v1) != "10.0.0.1:20880,10.0.0.2:20880" {
		t.Fatalf("v1 endpoints = %s, want .1 and .2 once each", endpointSet(v1))
	}
	e1, e2 := v1.Endpoints[0], v1.Endpoints[1]
	if e1.Weight != 100 || e2.Weight != 50 {
		t.Errorf("weights = %d, %d; want 100 (weight=0) and 50", e1.Weight, e2.Weight)
	}
	if !e1.Healthy {
		t.Errorf("endpoint 1 should be healthy")
	}
	wantLabels := map[string]string{"version": "1.0.0", "group": "g", "application": "demo", "dubbo": "2.0.2",
		"release": "3.3.2", "side": "provider", "serialization": "hessian2"}
	for k, v := range wantLabels {
		if e1.Labels[k] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", k, e1.Labels[k], v, e1.Labels)
		}
	}
	if v1.Metadata["timeout"] != "3000" || v1.Metadata["application"] != "demo" {
		t.Errorf("v1 metadata misses shared params: %v", v1.Metadata)
	}
	for _, k := range []string{"pid", "timestamp", "weight"} {
		if _, ok := v1.Metadata[k]; ok {
			t.Errorf("v1 metadata has per-endpoint %s: %v", k, v1.Metadata)
		}
	}
	v2, _ := registrytest.Service(snap, "providers:com.foo.Greeter:2.0.0:")
	if v2.Protocol != registries.ProtocolTriple || endpointSet(v2) != "10.0.0.3:50051" {
		t.Errorf("v2 = %s %s", v2.Protocol, endpointSet(v2))
	}
	for _, want := range [][2]string{
		{"10.0.0.2%3A20880", "duplicate provider 10.0.0.2:20880"},
		{"10.0.0.4%3A0", "out of range"},
		{"/dubbo/com.foo.Greeter/providers/dubbo%3A%2F%2F10.0.0.5", "too large"},
		{"10.0.0.6", "invalid URL escape"},
	} {
		if !hasDiag(snap, want[0], want[1]) {
			t.Errorf("no diagnostic about %q containing %q:\n%s", want[0], want[1], registrytest.Dump(snap))
		}
	}

	added := w.provider(greeter, greeterURL("10.0.0.7:20880", "version=1.0.0&group=g&methods=sayHello"))
	rec.WaitFor(t, "the added provider", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, "providers:com.foo.Greeter:1.0.0:g")
		return endpointSet(svc) == "10.0.0.1:20880,10.0.0.2:20880,10.0.0.7:20880"
	})
	w.remove(added)
	rec.WaitFor(t, "the removed provider gone", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, "providers:com.foo.Greeter:1.0.0:g")
		return endpointSet(svc) == "10.0.0.1:20880,10.0.0.2:20880"
	})
	w.provider("com.foo.Other", "dubbo://10.0.1.1:20880/com.foo.Other?interface=com.foo.Other")
	rec.WaitFor(t, "a new interface", func(s registries.Snapshot) bool {
		svc, ok := registrytest.Service(s, "providers:com.foo.Other::")
		return ok && endpointSet(svc) == "10.0.1.1:20880"
	})
}

func TestApplicationLevelInstances(t *testing.T) {
	server := zkpeer.Start(t)
	w := newWriter(t, server.Addr())
	w.put("/services/shop/10.0.2.1:20880", `{"name":"shop","id":"10.0.2.1:20880","address":"10.0.2.1","port":20880,`+
		`"payload":{"@class":"org.apache.dubbo.registry.zookeeper.ZookeeperInstance","name":"shop","metadata":`+
		`{"dubbo.endpoints":"[{\"port\":20880,\"protocol\":\"dubbo\"},{\"port\":50051,\"protocol\":\"tri\"}]",`+
		`"dubbo.metadata.revision":"abc","dubbo.metadata.storage-type":"local"}}}`, zk.FlagEphemeral)
	w.put("/services/shop/10.0.2.2:20880", `not json`, zk.FlagEphemeral)
	w.put("/dubbo/mapping/com.shop.Cart", "shop", 0)
	w.put("/dubbo/metadata/com.shop.Cart/provider/shop",
		`{"canonicalName":"com.shop.Cart","methods":[{"name":"add","parameterTypes":["long"]},{"name":"list"},{"name":"add"}]}`, 0)

	rec := runSource(t, server.Addr())
	snap := rec.WaitFor(t, "the application-level service", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, "providers:com.shop.Cart::")
		return ok
	})
	svc, _ := registrytest.Service(snap, "providers:com.shop.Cart::")
	if svc.Protocol != registries.ProtocolDubbo || svc.Interface != "com.shop.Cart" || endpointSet(svc) != "10.0.2.1:20880" {
		t.Errorf("service = %s %s %s", svc.Protocol, svc.Interface, endpointSet(svc))
	}
	if !slices.Equal(svc.Methods, []string{"add", "list"}) {
		t.Errorf("methods from the metadata center = %v", svc.Methods)
	}
	if svc.Endpoints[0].Labels["application"] != "shop" || svc.Metadata["registration"] != "application" {
		t.Errorf("labels %v metadata %v", svc.Endpoints[0].Labels, svc.Metadata)
	}
	if !hasDiag(snap, "/services/shop/10.0.2.2:20880", "not JSON") || !hasDiag(snap, "providers:com.shop.Cart::", "MetadataService") {
		t.Errorf("missing diagnostics:\n%s", registrytest.Dump(snap))
	}

	w.put("/services/shop/10.0.2.3:20880", `{"name":"shop","address":"10.0.2.3","port":20880,"payload":{"metadata":{}}}`, zk.FlagEphemeral)
	rec.WaitFor(t, "a new instance", func(s registries.Snapshot) bool {
		svc, _ := registrytest.Service(s, "providers:com.shop.Cart::")
		return endpointSet(svc) == "10.0.2.1:20880,10.0.2.3:20880"
	})
	w.put("/dubbo/mapping/com.shop.Cart", "nobody", 0)
	rec.WaitFor(t, "the mapping change", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, "providers:com.shop.Cart::")
		return !ok
	})
}
