package nacos

import (
	"encoding/json"
	"io"
	"log"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// providerInstanceMetadata reads the metadata the real dubbo-go provider wrote for its
// application-level instance in ZooKeeper (Curator's format: payload.metadata).
func providerInstanceMetadata(t *testing.T, zkAddr string, p *dubboprovider.Provider) map[string]string {
	t.Helper()
	conn, _, err := zk.Connect([]string{zkAddr}, 10*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatalf("connect to zookeeper: %v", err)
	}
	defer conn.Close()
	data, _, err := conn.Get("/services/" + p.App() + "/127.0.0.1:" + strconv.Itoa(p.Port()))
	if err != nil {
		t.Fatalf("read the provider's instance node: %v", err)
	}
	var node struct {
		Payload struct {
			Metadata map[string]string `json:"metadata"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(data, &node); err != nil || node.Payload.Metadata["dubbo.metadata.revision"] == "" {
		t.Fatalf("instance node %s: %v (no revision in the metadata)", data, err)
	}
	return node.Payload.Metadata
}

// TestDubboGoApplicationLevel resolves an application-level instance registered in Nacos (a
// protocol-level double) through the MetadataService of a real dubbo-go provider: the
// instance's metadata is what that provider wrote into a real ZooKeeper.
func TestDubboGoApplicationLevel(t *testing.T) {
	server := zkpeer.Start(t)
	p := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: server.Addr(), App: "greeter-app", Registry: "application"})
	metadata := providerInstanceMetadata(t, server.Addr(), p)

	d := nacosdouble.Start(t)
	d.Register("", "", p.App(), nacosdouble.NewInstance("127.0.0.1", uint64(p.Port()), metadata))
	rec := startSource(t, d, Config{})

	const name = "providers:" + dubboprovider.Interface + ":" + dubboprovider.Version + ":"
	snap, _ := rec.WaitFrom(t, "the service the MetadataService describes", 0, func(s registries.Snapshot) bool {
		return slices.Equal(endpointsOf(s, name), []string{p.Addr()})
	})
	var svc registries.Service
	for _, s := range snap.Services {
		if s.Name == name {
			svc = s
		}
	}
	if svc.Protocol != registries.ProtocolDubbo || svc.Interface != dubboprovider.Interface || svc.Version != dubboprovider.Version || svc.Group != "" {
		t.Errorf("identity: %s %s %q %q", svc.Protocol, svc.Interface, svc.Version, svc.Group)
	}
	if want := []string{"attachments", "echoSample", "echoUser", "fail", "sayHello", "slow"}; !slices.Equal(svc.Methods, want) {
		t.Errorf("methods = %v, want %v", svc.Methods, want)
	}
	if ep := svc.Endpoints[0]; ep.Labels["application"] != p.App() || ep.Labels[dubbometa.KeyRevision] != metadata[dubbometa.KeyRevision] ||
		svc.Metadata["registration"] != "application" {
		t.Errorf("labels %v metadata %v", ep.Labels, svc.Metadata)
	}
	if endpointsOf(snap, p.App()) != nil {
		t.Errorf("the placeholder service is still published:\n  %s", strings.Join(summarize(snap), "\n  "))
	}
	for _, d := range snap.Diagnostics {
		if d.Severity != diag.Info {
			t.Errorf("unexpected diagnostic: %+v", d)
		}
	}
}
