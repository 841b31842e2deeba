package nacos

import (
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/registrytest"
)

// testLogger is shared by every test: the SDK's logger is process-global and bound to the
// first source's logger, so it must outlive any one test (no t.Log here).
var testLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// startSource runs a source against the double until the test ends.
func startSource(t *testing.T, d *nacosdouble.Server, cfg Config) *registrytest.Recorder {
	t.Helper()
	cfg.Servers = []string{d.Addr()}
	cfg.CacheDir = t.TempDir()
	cfg.LogDir = t.TempDir()
	if cfg.ResyncInterval == 0 {
		cfg.ResyncInterval = yamltime.Duration(time.Hour)
	}
	src, err := New("nacos1", cfg, testLogger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return registrytest.Run(t, src)
}

// summarize renders a snapshot's services one line per service, for comparisons that read
// well in a failure message.
func summarize(s registries.Snapshot) []string {
	var out []string
	for _, svc := range s.Services {
		var eps []string
		for _, ep := range svc.Endpoints {
			eps = append(eps, fmt.Sprintf("%s:%d w=%d healthy=%t zone=%s ns=%s g=%s", ep.Address, ep.Port, ep.Weight,
				ep.Healthy, ep.Locality.Zone, ep.Labels[LabelNamespace], ep.Labels[LabelGroup]))
		}
		out = append(out, fmt.Sprintf("%s %s %s:%s:%s methods=%s [%s]", svc.Name, svc.Protocol, svc.Interface,
			svc.Version, svc.Group, strings.Join(svc.Methods, ","), strings.Join(eps, "; ")))
	}
	return out
}

// endpointsOf returns "ip:port" of every endpoint of the named service, sorted; nil when the
// service is absent.
func endpointsOf(s registries.Snapshot, name string) []string {
	svc, ok := registrytest.Service(s, name)
	if !ok {
		return nil
	}
	out := []string{}
	for _, ep := range svc.Endpoints {
		out = append(out, fmt.Sprintf("%s:%d", ep.Address, ep.Port))
	}
	sort.Strings(out)
	return out
}

// dubboProvider is the metadata Dubbo writes for an interface-level provider.
func dubboProvider(iface, version, group, protocol string, extra ...string) map[string]string {
	md := map[string]string{
		"interface": iface, "path": iface, "protocol": protocol, "side": "provider", "category": "providers",
		"application": "demo-provider", "methods": "sayHello,sayBye", "dubbo": "2.0.2", "timeout": "3000",
	}
	if version != "" {
		md["version"] = version
	}
	if group != "" {
		md["group"] = group
	}
	for i := 0; i+1 < len(extra); i += 2 {
		md[extra[i]] = extra[i+1]
	}
	return md
}
