package zookeeper

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
)

// workers bounds the concurrent ZooKeeper reads of one pass. go-zookeeper pipelines concurrent
// requests on its one connection, and the server answers a session's requests in order, so
// more requests in flight only hide the round trips: past 64 the 10,000-interface benchmark
// gains nothing (docs/benchmarks.md).
const workers = 64

// skippedChildren are the nodes under the root that are not interfaces.
var skippedChildren = map[string]bool{"config": true, "mapping": true, "metadata": true}

// servicesPath is where Dubbo 3 registers application-level instances.
const servicesPath = "/services"

// pass brings st up to date with what changed: everything on a full pass, otherwise only the
// nodes whose watches fired. It returns an error only when the session failed, leaving the
// rest for the next full pass.
func (s *Source) pass(ctx context.Context, t tree, st *state, ch zkwatch.Changes) error {
	rootPath := "/" + s.cfg.Root
	mappingPath := rootPath + "/mapping"
	var ifaces, mappings, apps, instances []string
	var metas []string
	listRoot, listMappings, listApps := ch.Full, ch.Full, ch.Full
	for p := range ch.Paths {
		rel, inRoot := strings.CutPrefix(p, rootPath+"/")
		switch {
		case p == rootPath:
			listRoot = true
		case p == mappingPath:
			listMappings = true
		case strings.HasPrefix(p, mappingPath+"/"):
			mappings = append(mappings, strings.TrimPrefix(p, mappingPath+"/"))
		case strings.HasPrefix(p, rootPath+"/metadata/"):
			metas = append(metas, p)
		case inRoot && strings.HasSuffix(rel, "/providers") && strings.Count(rel, "/") == 1:
			ifaces = append(ifaces, strings.TrimSuffix(rel, "/providers"))
		case p == servicesPath:
			listApps = true
		case strings.HasPrefix(p, servicesPath+"/"):
			app, inst, isInstance := strings.Cut(strings.TrimPrefix(p, servicesPath+"/"), "/")
			if isInstance {
				instances = append(instances, app+"/"+inst)
			} else {
				apps = append(apps, app)
			}
		}
	}
	if ch.Full {
		clear(st.meta)
	}
	for _, m := range metas {
		delete(st.meta, m)
		st.changed = true
	}

	if listRoot {
		names, err := s.listSet(t, st, rootPath, func(n string) bool { return !skippedChildren[n] })
		if err != nil {
			return err
		}
		known := len(st.ifaces)
		ifaces = append(ifaces, syncKeys(st, st.ifaces, names, ch.Full)...)
		if len(st.ifaces) != known {
			st.orderStale = true // syncKeys only removes
		}
	}
	if err := s.readInterfaces(ctx, t, st, unique(ifaces)); err != nil {
		return err
	}
	if listMappings {
		names, err := s.listSet(t, st, mappingPath, nil)
		if err != nil {
			return err
		}
		mappings = append(mappings, syncKeys(st, st.mappings, names, ch.Full)...)
	}
	if err := s.readMappings(ctx, t, st, unique(mappings)); err != nil {
		return err
	}
	if listApps {
		names, err := s.listSet(t, st, servicesPath, nil)
		if err != nil {
			return err
		}
		apps = append(apps, syncKeys(st, st.apps, names, ch.Full)...)
	}
	more, err := s.readApps(ctx, t, st, unique(apps), ch.Full)
	if err != nil {
		return err
	}
	if err := s.readInstances(ctx, t, st, unique(append(instances, more...))); err != nil {
		return err
	}
	return s.readMetadata(ctx, t, st)
}

// listSet lists path's children (none when it does not exist), keeping those keep accepts.
func (s *Source) listSet(t tree, st *state, path string, keep func(string) bool) (map[string]bool, error) {
	names, err := t.children(path)
	if err := s.readError(st, path, err); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, n := range names {
		if keep == nil || keep(n) {
			set[n] = true
		}
	}
	return set, nil
}

// syncKeys drops the entries of m that are not in names and returns the names to read: the new
// ones, or all of them on a full pass.
func syncKeys[V any](st *state, m map[string]V, names map[string]bool, full bool) []string {
	for k := range m {
		if !names[k] {
			delete(m, k)
			st.changed = true
		}
	}
	var read []string
	for n := range names {
		if _, known := m[n]; full || !known {
			read = append(read, n)
		}
	}
	return read
}

// readError records a read failure that concerns only one node as a diagnostic, and returns the
// errors that concern the session. Missing nodes are not errors.
func (s *Source) readError(st *state, path string, err error) error {
	if err == nil || errors.Is(err, errNoNode) {
		if _, had := st.readDiags[path]; had {
			delete(st.readDiags, path)
			st.changed = true
		}
		return nil
	}
	if isConnectionError(err) {
		return err
	}
	st.readDiags[path] = diag.Diagnostic{Severity: diag.Warning, Code: diag.RegistryReadFailed, Stage: s.stage, Subject: path,
		Message: fmt.Sprintf("could not read: %v; keeping what was known", err)}
	st.changed = true
	return nil
}

// forEach runs fn on every item with a bounded number of workers and stops at the first error.
func forEach(ctx context.Context, items []string, fn func(string) error) error {
	jobs := make(chan string)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range min(workers, len(items)) {
		wg.Go(func() {
			for it := range jobs {
				if err := fn(it); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	var err error
feed:
	for _, it := range items {
		select {
		case jobs <- it:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

func unique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// readInterfaces re-reads the providers of ifaces and rebuilds those whose children changed.
// The reading workers also build the services (buildInterface is pure), so that parsing the
// provider URLs overlaps the reads; st is only read until the reads are done.
func (s *Source) readInterfaces(ctx context.Context, t tree, st *state, ifaces []string) error {
	type result struct {
		err   error
		built *ifaceEntry // nil when the children did not change
	}
	var mu sync.Mutex
	results := make(map[string]result, len(ifaces))
	err := forEach(ctx, ifaces, func(iface string) error {
		path := "/" + s.cfg.Root + "/" + iface + "/providers"
		names, err := t.children(path)
		if isConnectionError(err) {
			return err
		}
		slices.Sort(names)
		r := result{err: err}
		if err == nil || errors.Is(err, errNoNode) {
			digest := childrenDigest(names)
			if old := st.ifaces[iface]; old == nil || old.children != digest {
				services, diags := buildInterface(s.stage, path, iface, names)
				r.built = &ifaceEntry{children: digest, services: services, diags: diags}
			}
		}
		mu.Lock()
		results[iface] = r
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	for _, iface := range slices.Sorted(maps.Keys(results)) {
		r := results[iface]
		path := "/" + s.cfg.Root + "/" + iface + "/providers"
		if err := s.readError(st, path, r.err); err != nil {
			return err
		}
		if r.built == nil {
			continue // unchanged, or unreadable: keep what was known
		}
		if _, known := st.ifaces[iface]; !known {
			st.orderStale = true
		}
		st.ifaces[iface] = r.built
		st.changed = true
	}
	return nil
}
