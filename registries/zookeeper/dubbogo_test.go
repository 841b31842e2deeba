package zookeeper

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// These tests run the real dubbo-go v3.3.2 provider (internal/testpeers/dubbogo) against the
// real ZooKeeper and check what the source makes of what dubbo-go writes.

const greeterService = "providers:" + dubboprovider.Interface + ":1.0.0:"

var greeterMethods = []string{"attachments", "echoSample", "echoUser", "fail", "sayHello", "slow"}

func TestDubboGoApplicationLevel(t *testing.T) {
	server := zkpeer.Start(t)
	p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: server.Addr(), App: "greeter-app", Registry: "application"})
	rec := runSource(t, server.Addr())

	snap := rec.WaitFor(t, "the service the MetadataService describes", func(s registries.Snapshot) bool {
		svc, ok := registrytest.Service(s, greeterService)
		return ok && endpointSet(svc) == p.Addr()
	})
	svc, _ := registrytest.Service(snap, greeterService)
	if svc.Protocol != registries.ProtocolDubbo || svc.Interface != dubboprovider.Interface || svc.Version != "1.0.0" || svc.Group != "" {
		t.Errorf("identity: %s %s %q %q", svc.Protocol, svc.Interface, svc.Version, svc.Group)
	}
	if !slices.Equal(svc.Methods, greeterMethods) {
		t.Errorf("methods = %v, want %v", svc.Methods, greeterMethods)
	}
	ep := svc.Endpoints[0]
	if ep.Labels["application"] != "greeter-app" || ep.Labels[dubbometa.KeyRevision] == "" || svc.Metadata["registration"] != "application" {
		t.Errorf("labels %v metadata %v", ep.Labels, svc.Metadata)
	}
	if _, placeholder := registrytest.Service(snap, "providers:"+dubboprovider.Interface+"::"); placeholder {
		t.Errorf("the placeholder service is still published:\n%s", registrytest.Dump(snap))
	}
	for _, s := range snap.Services {
		if s.Interface == dubbometa.MetadataServiceInterface {
			t.Errorf("the MetadataService itself was published: %s", s.Name)
		}
	}

	p.Stop()
	rec.WaitFor(t, "the stopped provider's endpoint gone", func(s registries.Snapshot) bool {
		svc, ok := registrytest.Service(s, greeterService)
		return !ok || len(svc.Endpoints) == 0
	})
}

func TestDubboGoInterfaceLevel(t *testing.T) {
	server := zkpeer.Start(t)
	p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: server.Addr(), App: "greeter-app", Registry: "interface"})
	rec := runSource(t, server.Addr())

	// dubbo-go v3.3.2 registers the host's first non-loopback IP in interface-level URLs,
	// whatever DUBBO_IP_TO_REGISTRY says: only the port is known in advance.
	port := ":" + strconv.Itoa(p.Port())
	snap := rec.WaitFor(t, "the interface-level service", func(s registries.Snapshot) bool {
		svc, ok := registrytest.Service(s, greeterService)
		return ok && len(svc.Endpoints) == 1 && strings.HasSuffix(endpointSet(svc), port)
	})
	svc, _ := registrytest.Service(snap, greeterService)
	if svc.Protocol != registries.ProtocolDubbo || svc.Version != "1.0.0" || svc.Group != "" {
		t.Errorf("identity: %s %q %q", svc.Protocol, svc.Version, svc.Group)
	}
	if !slices.Equal(svc.Methods, greeterMethods) {
		t.Errorf("methods = %v, want %v", svc.Methods, greeterMethods)
	}
	ep := svc.Endpoints[0]
	if ep.Weight != 100 || !ep.Healthy || ep.Labels["application"] != "greeter-app" || ep.Labels["serialization"] != "hessian2" {
		t.Errorf("endpoint %+v", ep)
	}
	if svc.Metadata["application"] != "greeter-app" {
		t.Errorf("metadata %v", svc.Metadata)
	}

	p.Stop()
	rec.WaitFor(t, "the stopped provider's endpoint gone", func(s registries.Snapshot) bool {
		svc, ok := registrytest.Service(s, greeterService)
		return !ok || len(svc.Endpoints) == 0
	})
}

func TestMetadataServiceFailureKeepsPlaceholder(t *testing.T) {
	server := zkpeer.Start(t)
	w := newWriter(t, server.Addr())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := l.Addr().(*net.TCPAddr).Port
	_ = l.Close() // nothing listens there: the MetadataService call fails at once
	w.put("/services/shop/127.0.0.1:"+strconv.Itoa(closedPort), `{"name":"shop","address":"127.0.0.1","port":`+strconv.Itoa(closedPort)+
		`,"payload":{"metadata":{"dubbo.metadata.revision":"r1","dubbo.metadata.storage-type":"local"}}}`, zk.FlagEphemeral)
	w.put("/dubbo/mapping/com.shop.Cart", "shop", 0)

	rec := runSource(t, server.Addr())
	snap := rec.WaitFor(t, "the placeholder and the failure diagnostic", func(s registries.Snapshot) bool {
		_, ok := registrytest.Service(s, "providers:com.shop.Cart::")
		return ok && hasDiag(s, "/services/shop", "MetadataService call for revision r1 failed")
	})
	svc, _ := registrytest.Service(snap, "providers:com.shop.Cart::")
	if endpointSet(svc) != "127.0.0.1:"+strconv.Itoa(closedPort) {
		t.Errorf("placeholder endpoints = %s", endpointSet(svc))
	}
	// The call is retried: the failure count grows.
	rec.WaitFor(t, "a retry", func(s registries.Snapshot) bool {
		return hasDiag(s, "/services/shop", "failed 2 time(s)")
	})
}
