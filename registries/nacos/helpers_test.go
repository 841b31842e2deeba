package nacos

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/nacosdouble"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
	"github.com/rpcbridge/rpcbridge/registries"
)

// testLogger is shared by every test: the SDK's logger is process-global and bound to the
// first source's logger, so it must outlive any one test (no t.Log here).
var testLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

// recorder keeps every snapshot a source publishes.
type recorder struct {
	mu    sync.Mutex
	snaps []registries.Snapshot
	wake  chan struct{}
}

func (r *recorder) publish(s registries.Snapshot) {
	r.mu.Lock()
	r.snaps = append(r.snaps, s)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// waitFor returns the first snapshot, from the n-th published on, that satisfies cond. The
// deadline is only a give-up bound, never a pass criterion.
func (r *recorder) waitFor(t *testing.T, what string, from int, cond func(registries.Snapshot) bool) (registries.Snapshot, int) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		snaps := slices.Clone(r.snaps)
		r.mu.Unlock()
		for i := from; i < len(snaps); i++ {
			if cond(snaps[i]) {
				return snaps[i], i + 1
			}
		}
		select {
		case <-r.wake:
		case <-deadline.C:
			last := "none"
			if len(snaps) > 0 {
				last = strings.Join(summarize(snaps[len(snaps)-1]), "\n  ")
			}
			t.Fatalf("gave up waiting for %s; last snapshot:\n  %s", what, last)
		}
	}
}

// startSource runs a source against the double until the test ends.
func startSource(t *testing.T, d *nacosdouble.Server, cfg Config) *recorder {
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
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recorder{wake: make(chan struct{}, 1)}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, rec.publish) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
	return rec
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
	for _, svc := range s.Services {
		if svc.Name == name {
			out := []string{}
			for _, ep := range svc.Endpoints {
				out = append(out, fmt.Sprintf("%s:%d", ep.Address, ep.Port))
			}
			sort.Strings(out)
			return out
		}
	}
	return nil
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
