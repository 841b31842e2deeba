package consul

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/registries"
)

// serviceState is what the run loop knows about one listed service.
type serviceState struct {
	gen    uint64
	cancel context.CancelFunc
	read   bool // a health answer arrived
	svc    registries.Service
	ok     bool // svc has at least one usable instance
	diags  []diag.Diagnostic
	// known is the service as it was last read with a usable instance (knownOK), kept for
	// snapshots taken while the catalog cannot be read.
	known   registries.Service
	knownOK bool
}

// state is everything the run loop knows. Only the run loop touches it.
type state struct {
	catalogRead bool
	everSynced  bool
	services    map[string]*serviceState
	failing     map[string]error // "" for the catalog, else a service name
	gen         uint64
}

func newState() *state {
	return &state{services: map[string]*serviceState{}, failing: map[string]error{}}
}

// apply folds one watcher report into the state and reports whether anything changed. start
// runs a health watcher for a newly listed service.
func (st *state) apply(r watchResult, b builder, start func(name string, gen uint64) context.CancelFunc) bool {
	if r.service != "" {
		if cur := st.services[r.service]; cur == nil || cur.gen != r.gen {
			return false // a report of a watcher that was stopped
		}
	}
	if r.err != nil {
		_, already := st.failing[r.service]
		st.failing[r.service] = r.err
		return !already
	}
	_, wasFailing := st.failing[r.service]
	delete(st.failing, r.service)
	if r.service == "" {
		return st.applyCatalog(r.names, start) || wasFailing
	}
	cur := st.services[r.service]
	svc, diags, ok := b.service(r.service, r.entries)
	if cur.read && cur.ok == ok && reflect.DeepEqual(cur.svc, svc) && reflect.DeepEqual(cur.diags, diags) {
		return wasFailing
	}
	cur.read, cur.svc, cur.diags, cur.ok = true, svc, diags, ok
	if ok {
		cur.known, cur.knownOK = svc, true
	}
	return true
}

// applyCatalog starts watchers for new services and stops those of services that left.
func (st *state) applyCatalog(names []string, start func(name string, gen uint64) context.CancelFunc) bool {
	changed := !st.catalogRead
	st.catalogRead = true
	for name, cur := range st.services {
		if !slices.Contains(names, name) {
			cur.cancel()
			delete(st.services, name)
			delete(st.failing, name)
			changed = true
		}
	}
	for _, name := range names {
		if st.services[name] == nil {
			st.gen++
			st.services[name] = &serviceState{gen: st.gen, cancel: start(name, st.gen)}
			changed = true
		}
	}
	return changed
}

// synced reports whether the first complete listing is done; it stays true once it was.
func (st *state) synced() bool {
	if st.everSynced {
		return true
	}
	if !st.catalogRead {
		return false
	}
	for _, cur := range st.services {
		if !cur.read {
			return false
		}
	}
	st.everSynced = true
	return true
}

// snapshot is the full state. Services not read yet (listed after the first sync) are left out
// until their first answer. While queries fail, it is stale and carries a
// registries.Unreachable diagnostic about agent (the address asked). While the catalog itself
// cannot be read, a service whose health now lists no usable instance keeps its last known
// instances: an agent that restarted empty answers health queries (with nothing) before the
// catalog watcher is back, and whether the service left is the catalog's to say.
func (st *state) snapshot(source, agent string) registries.Snapshot {
	snap := registries.Snapshot{Source: source, Services: []registries.Service{}, Synced: true}
	_, catalogFailing := st.failing[""]
	for _, name := range slices.Sorted(maps.Keys(st.services)) {
		cur := st.services[name]
		switch {
		case cur.ok:
			snap.Services = append(snap.Services, cur.svc)
		case catalogFailing && cur.knownOK:
			snap.Services = append(snap.Services, cur.known)
		}
		snap.Diagnostics = append(snap.Diagnostics, cur.diags...)
	}
	diag.Sort(snap.Diagnostics)
	if len(st.failing) > 0 {
		d := registries.Unreachable(source, agent, st.failures())
		return registries.UnreachableSnapshot(source, &snap, d)
	}
	return snap
}

// keepUnread adds to services, while queries fail, the last published state of every listed
// service whose health has not been read yet (a service the catalog lists again after an agent
// restart, whose first health query failed), so that an outage never drops what was known.
func (st *state) keepUnread(services, last []registries.Service) []registries.Service {
	for _, svc := range last {
		if cur := st.services[svc.Name]; cur != nil && !cur.read {
			services = append(services, svc)
		}
	}
	slices.SortFunc(services, func(a, b registries.Service) int { return strings.Compare(a.Name, b.Name) })
	return services
}

// pending is what is published before the first complete listing while queries fail: a
// pending snapshot that says why; ok is false when nothing fails.
func (st *state) pending(source, agent string) (registries.Snapshot, bool) {
	if len(st.failing) == 0 {
		return registries.Snapshot{}, false
	}
	return registries.UnreachableSnapshot(source, nil, registries.Unreachable(source, agent, st.failures())), true
}

// failures describes the failing queries: the catalog's error, else the first service's, with
// how many more fail (when the agent is gone, every watcher fails with the same error).
func (st *state) failures() string {
	keys := slices.Sorted(maps.Keys(st.failing)) // "" (the catalog) sorts first
	if len(keys) == 0 {
		return ""
	}
	msg := "cannot reach Consul: " + st.failing[keys[0]].Error()
	if n := len(keys) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more failing queries)", n)
	}
	return msg
}
