package zookeeper

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
)

// readMappings re-reads the mapping nodes of ifaces (interface -> applications).
func (s *Source) readMappings(ctx context.Context, t tree, st *state, ifaces []string) error {
	return s.readData(ctx, t, st, ifaces, func(iface string) string {
		return "/" + s.cfg.Root + "/mapping/" + iface
	}, func(iface string, data []byte, missing bool) {
		apps := parseMapping(data)
		if missing || len(apps) == 0 {
			if _, had := st.mappings[iface]; had {
				delete(st.mappings, iface)
				st.changed = true
			}
			return
		}
		if !slices.Equal(st.mappings[iface], apps) {
			st.mappings[iface] = apps
			st.changed = true
		}
	})
}

// readApps re-lists the instances of apps and returns the instance nodes ("app/node") to read:
// the new ones, or all of them on a full pass.
func (s *Source) readApps(ctx context.Context, t tree, st *state, apps []string, full bool) ([]string, error) {
	var mu sync.Mutex
	listed := map[string][]string{}
	err := forEach(ctx, apps, func(app string) error {
		names, err := t.children(servicesPath + "/" + app)
		if isConnectionError(err) {
			return err
		}
		mu.Lock()
		listed[app] = names
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	var read []string
	for _, app := range slices.Sorted(maps.Keys(listed)) {
		names := map[string]bool{}
		for _, n := range listed[app] {
			names[n] = true
		}
		nodes := st.apps[app]
		if nodes == nil {
			nodes = map[string]instanceEntry{}
			st.apps[app] = nodes
		}
		for _, n := range syncKeys(st, nodes, names, full) {
			read = append(read, app+"/"+n)
		}
	}
	return read, nil
}

// readInstances re-reads instance nodes ("app/node").
func (s *Source) readInstances(ctx context.Context, t tree, st *state, instances []string) error {
	return s.readData(ctx, t, st, instances, func(key string) string {
		return servicesPath + "/" + key
	}, func(key string, data []byte, missing bool) {
		app, node, _ := strings.Cut(key, "/")
		nodes := st.apps[app]
		if missing {
			if nodes != nil {
				delete(nodes, node)
			}
			st.changed = true
			return
		}
		if nodes == nil {
			nodes = map[string]instanceEntry{}
			st.apps[app] = nodes
		}
		inst, err := parseInstance(app, servicesPath+"/"+key, data)
		nodes[node] = instanceEntry{inst: inst, err: err}
		st.changed = true
	})
}

// readMetadata reads the metadata-center service definitions the snapshot needs and has not
// read yet.
func (s *Source) readMetadata(ctx context.Context, t tree, st *state) error {
	var missing []string
	for _, p := range st.wantedMetadata(s.cfg.Root) {
		if _, ok := st.meta[p]; !ok {
			missing = append(missing, p)
		}
	}
	return s.readData(ctx, t, st, missing, func(p string) string { return p },
		func(p string, data []byte, absent bool) {
			entry := metaEntry{}
			if !absent {
				methods, err := parseServiceDefinition(data)
				entry = metaEntry{methods: methods, found: err == nil}
			}
			if old, had := st.meta[p]; !had || old.found != entry.found || !slices.Equal(old.methods, entry.methods) {
				st.changed = true
			}
			st.meta[p] = entry
		})
}

// readData reads the data of one node per key concurrently and hands each result to apply in
// key order on the calling goroutine (missing=true when the node does not exist). Nodes that
// cannot be read for other reasons keep their previous state and get a diagnostic.
func (s *Source) readData(ctx context.Context, t tree, st *state, keys []string, pathOf func(string) string,
	apply func(key string, data []byte, missing bool)) error {
	type result struct {
		data []byte
		err  error
	}
	var mu sync.Mutex
	results := map[string]result{}
	err := forEach(ctx, keys, func(k string) error {
		data, err := t.data(pathOf(k))
		if isConnectionError(err) {
			return err
		}
		if err == nil && len(data) > maxNodeData {
			data = nil
		}
		mu.Lock()
		results[k] = result{data, err}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(results)) {
		r := results[k]
		if err := s.readError(st, pathOf(k), r.err); err != nil {
			return err
		}
		if r.err != nil && !errors.Is(r.err, errNoNode) {
			continue
		}
		apply(k, r.data, r.err != nil)
	}
	return nil
}
