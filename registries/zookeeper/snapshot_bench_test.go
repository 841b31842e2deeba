package zookeeper

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/registries"
)

// benchState is the state of a source that read n benchmark interfaces.
func benchState(n int) *state {
	st := newState()
	for i := range n {
		iface := benchIface(i)
		path := "/dubbo/" + iface + "/providers"
		var children []string
		for p := range benchProviders {
			children = append(children, benchProvider(i, p))
		}
		services, diags := buildInterface("registry bench", path, iface, children)
		st.ifaces[iface] = &ifaceEntry{children: childrenDigest(children), services: services, diags: diags}
	}
	return st
}

// BenchmarkSnapshot100k measures what publishing costs after one provider change among 100,000
// interfaces: the metadata paths a pass looks for, and the snapshot.
func BenchmarkSnapshot100k(b *testing.B) {
	st := benchState(100_000)
	b.ReportAllocs()
	for b.Loop() {
		_ = st.wantedMetadata("dubbo")
		_ = st.snapshot("bench", "registry bench", "dubbo")
	}
}

// TestSnapshotOrdersByName checks that services come out sorted by name when interface names
// are prefixes of one another ("a.B" sorts before "a.B2", "providers:a.B:..." after
// "providers:a.B2:...").
func TestSnapshotOrdersByName(t *testing.T) {
	st := newState()
	for _, iface := range []string{"a.B", "a.B2", "a.B-x", "a", "a.B.C", "b"} {
		path := "/dubbo/" + iface + "/providers"
		children := []string{url.QueryEscape("dubbo://10.0.0.1:20880/" + iface + "?interface=" + iface + "&version=1.0.0&methods=m")}
		services, diags := buildInterface("registry t", path, iface, children)
		st.ifaces[iface] = &ifaceEntry{children: childrenDigest(children), services: services, diags: diags}
	}
	snap := st.snapshot("t", "registry t", "dubbo")
	if len(snap.Services) != 6 {
		t.Fatalf("got %d services, want 6", len(snap.Services))
	}
	if !slices.IsSortedFunc(snap.Services, func(a, b registries.Service) int { return strings.Compare(a.Name, b.Name) }) {
		var names []string
		for _, s := range snap.Services {
			names = append(names, s.Name)
		}
		t.Fatalf("services not sorted by name: %q", names)
	}
}
