package zookeeper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/registries"
)

// Dubbo 3 application-level instances say which services they serve only through their
// MetadataService: the source calls getMetadataInfo(revision) on one instance per (application,
// revision), off the listing path, and publishes each interface/version/group it returns as its
// own service. Until then (or while the call fails) the interface keeps its placeholder service
// with empty version and group.

// The MetadataService every Dubbo 3 instance exports (its group is the application name).
const (
	metadataServiceInterface = "org.apache.dubbo.metadata.MetadataService"
	metadataServiceVersion   = "1.0.0"
	metadataFetchTimeout     = 5 * time.Second
	metadataFetchWorkers     = 4
	metadataRetryMin         = time.Second
	metadataRetryMax         = 2 * time.Minute
)

// appRevision identifies one metadata revision of an application.
type appRevision struct{ app, revision string }

// serviceInfo is one entry of a MetadataInfo's services (MetadataInfo$ServiceInfo).
type serviceInfo struct {
	name, group, version, protocol, path string
	port                                 int
	params                               map[string]string
}

// appMetaEntry caches what the MetadataService said for one (application, revision).
type appMetaEntry struct {
	services []serviceInfo // valid once fetched is true
	fetched  bool
	fetching bool
	err      error // the last failure
	failures int
	retryAt  time.Time
}

// revisionOf is the metadata revision an instance advertises ("" when it has none).
func (in instance) revisionOf() string { return in.Metadata["dubbo.metadata.revision"] }

// metadataTarget is where to call an instance's MetadataService: "host:port" and the service
// version, from dubbo.metadata-service.url-params (flat as Dubbo 3 and dubbo-go write it, or
// keyed by protocol as Dubbo 2.7 did), else the instance's dubbo endpoint.
func metadataTarget(in instance) (string, string, error) {
	version, port, protocol := metadataServiceVersion, 0, "dubbo"
	if raw := in.Metadata["dubbo.metadata-service.url-params"]; raw != "" {
		var flat map[string]any
		if err := json.Unmarshal([]byte(raw), &flat); err != nil {
			return "", "", fmt.Errorf("dubbo.metadata-service.url-params is not JSON: %w", err)
		}
		params := flat
		if nested, ok := flat["dubbo"].(map[string]any); ok {
			params = nested
		}
		if p, ok := params["protocol"].(string); ok && p != "" {
			protocol = p
		}
		if v, ok := params["version"].(string); ok && v != "" {
			version = v
		}
		switch p := params["port"].(type) {
		case string:
			port, _ = strconv.Atoi(p)
		case float64:
			port = int(p)
		}
	}
	if protocol != "dubbo" {
		return "", "", fmt.Errorf("the MetadataService is served over %q; only the dubbo protocol is supported", protocol)
	}
	if port <= 0 || port > 65535 {
		p, ok := in.endpointFor("dubbo")
		if !ok {
			return "", "", errors.New("instance advertises no dubbo port for its MetadataService")
		}
		port = int(p)
	}
	return net.JoinHostPort(in.Address, strconv.Itoa(port)), version, nil
}

// parseMetadataInfo reads the MetadataInfo a MetadataService returned. hessian2 decodes it
// into maps (rpcbridge registers no Dubbo classes): {app, revision, services: {key: {name,
// group, version, protocol, port, path, params}}}.
func parseMetadataInfo(v any, revision string) ([]serviceInfo, error) {
	if v == nil {
		return nil, fmt.Errorf("the instance has no metadata for revision %s", revision)
	}
	m, ok := asStringMap(v)
	if !ok {
		return nil, fmt.Errorf("MetadataInfo decoded as %T, not an object", v)
	}
	if r, _ := m["revision"].(string); r != "" && r != revision {
		return nil, fmt.Errorf("asked for revision %s, the instance answered %s", revision, r)
	}
	raw, _ := asAnyMap(m["services"])
	var services []serviceInfo
	for _, entry := range raw {
		sm, ok := asStringMap(entry)
		if !ok {
			continue
		}
		si := serviceInfo{name: str(sm["name"]), group: str(sm["group"]), version: str(sm["version"]),
			protocol: str(sm["protocol"]), path: str(sm["path"]), params: map[string]string{}}
		switch p := sm["port"].(type) {
		case int32:
			si.port = int(p)
		case int64:
			si.port = int(p)
		}
		if params, ok := asAnyMap(sm["params"]); ok {
			for k, v := range params {
				if vs, ok := v.(string); ok {
					si.params[k] = vs
				}
			}
		}
		if si.name == "" || si.name == metadataServiceInterface {
			continue
		}
		services = append(services, si)
	}
	slices.SortFunc(services, func(a, b serviceInfo) int {
		return strings.Compare(a.name+":"+a.version+":"+a.group+":"+a.protocol, b.name+":"+b.version+":"+b.group+":"+b.protocol)
	})
	return services, nil
}

func str(v any) string { s, _ := v.(string); return s }

func asStringMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, v := range m {
			if ks, ok := k.(string); ok {
				out[ks] = v
			}
		}
		return out, true
	}
	return nil, false
}

func asAnyMap(v any) (map[string]any, bool) { return asStringMap(v) }

// resolvedAppLevel builds the services that fetched metadata describes: one per interface,
// version, group and protocol, with the endpoints of every instance whose revision lists it.
// Interfaces for which skip is true (registered at interface level) are left out. It returns
// the services and the instances whose metadata is not known yet. It is a pure function.
func resolvedAppLevel(stage string, instances map[string][]appInstance, meta map[appRevision]*appMetaEntry,
	skip func(iface string) bool) ([]registries.Service, map[string][]appInstance, []diag.Diagnostic) {
	type key struct{ iface, version, group, protocol string }
	byKey := map[key]*registries.Service{}
	pending := map[string][]appInstance{}
	var diags []diag.Diagnostic
	for _, app := range slices.Sorted(maps.Keys(instances)) {
		for _, ai := range instances[app] {
			e := meta[appRevision{app, ai.inst.revisionOf()}]
			if e == nil || !e.fetched {
				pending[app] = append(pending[app], ai)
				continue
			}
			for _, si := range e.services {
				if skip(si.name) {
					continue
				}
				protocol, ok := protocolOf(si.protocol)
				if !ok {
					continue
				}
				port, ok := ai.inst.endpointFor(map[registries.Protocol]string{registries.ProtocolDubbo: "dubbo", registries.ProtocolTriple: "tri"}[protocol])
				if !ok && si.port > 0 && si.port <= 65535 {
					port, ok = uint32(si.port), true
				}
				if !ok {
					diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Stage: stage, Subject: ai.path,
						Message: fmt.Sprintf("instance has no %s port; not an endpoint of %s", si.protocol, si.name)})
					continue
				}
				k := key{si.name, si.version, si.group, string(protocol)}
				svc := byKey[k]
				if svc == nil {
					svc = &registries.Service{Name: fmt.Sprintf("providers:%s:%s:%s", si.name, si.version, si.group),
						Protocol: protocol, Interface: si.name, Version: si.version, Group: si.group,
						Metadata: map[string]string{"registration": "application", "application": app}}
					for p, v := range si.params {
						if !perEndpointParams[p] && !strings.Contains(p, ".") {
							svc.Metadata[p] = v
						}
					}
					svc.Metadata["application"] = app
					if m := si.params["methods"]; m != "" {
						svc.Methods = dropGoMethodAliases(slices.Compact(slices.Sorted(slices.Values(strings.Split(m, ",")))))
					}
					byKey[k] = svc
				}
				ep := registries.Endpoint{Address: ai.inst.Address, Port: port, Weight: 100, Healthy: true,
					Labels: map[string]string{"application": app, "revision": ai.inst.revisionOf()}}
				if si.version != "" {
					ep.Labels["version"] = si.version
				}
				if si.group != "" {
					ep.Labels["group"] = si.group
				}
				if !slices.ContainsFunc(svc.Endpoints, func(x registries.Endpoint) bool { return x.Address == ep.Address && x.Port == ep.Port }) {
					svc.Endpoints = append(svc.Endpoints, ep)
				}
			}
		}
	}
	var services []registries.Service
	protocolsOf := map[[3]string]int{}
	for k := range byKey {
		protocolsOf[[3]string{k.iface, k.version, k.group}]++
	}
	for _, k := range slices.SortedFunc(maps.Keys(byKey), func(a, b key) int {
		return strings.Compare(a.iface+":"+a.version+":"+a.group+":"+a.protocol, b.iface+":"+b.version+":"+b.group+":"+b.protocol)
	}) {
		svc := byKey[k]
		if protocolsOf[[3]string{k.iface, k.version, k.group}] > 1 && svc.Protocol != registries.ProtocolDubbo {
			svc.Name += ":" + string(svc.Protocol)
		}
		slices.SortFunc(svc.Endpoints, compareEndpoints)
		services = append(services, *svc)
	}
	return services, pending, diags
}

// metadataDiagnostics explains the (application, revision) pairs whose metadata is missing.
func metadataDiagnostics(stage string, meta map[appRevision]*appMetaEntry) []diag.Diagnostic {
	var diags []diag.Diagnostic
	for k, e := range meta {
		if e.fetched || e.err == nil {
			continue
		}
		diags = append(diags, diag.Diagnostic{Severity: diag.Warning, Stage: stage, Subject: "/services/" + k.app,
			Message: fmt.Sprintf("MetadataService call for revision %s failed %d time(s): %v; retrying, services keep empty version and group meanwhile",
				k.revision, e.failures, e.err)})
	}
	return diags
}

// metadataFetcher calls MetadataServices for the run loop. Its goroutines only make calls;
// results go back to the run loop, which alone touches the state.
type metadataFetcher struct {
	client *dubborpc.Client
	logger *slog.Logger
	sem    chan struct{}
	wake   chan struct{}
	wg     sync.WaitGroup

	mu   sync.Mutex
	done []fetchResult
}

type fetchResult struct {
	key      appRevision
	services []serviceInfo
	err      error
}

func newMetadataFetcher(logger *slog.Logger) *metadataFetcher {
	return &metadataFetcher{
		client: dubborpc.New(dubborpc.Options{DialTimeout: metadataFetchTimeout, Logger: logger}),
		logger: logger, sem: make(chan struct{}, metadataFetchWorkers), wake: make(chan struct{}, 1),
	}
}

func (f *metadataFetcher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// close waits for running fetches (they end with the run's context) and closes connections.
func (f *metadataFetcher) close() {
	f.wg.Wait()
	_ = f.client.Close()
}

// apply moves finished fetches into st and reports whether any arrived.
func (f *metadataFetcher) apply(st *state) bool {
	f.mu.Lock()
	done := f.done
	f.done = nil
	f.mu.Unlock()
	for _, r := range done {
		e := st.appMeta[r.key]
		if e == nil {
			continue // the revision went away meanwhile
		}
		e.fetching = false
		if r.err == nil {
			e.services, e.fetched, e.err, e.failures = r.services, true, nil, 0
		} else {
			e.err = r.err
			e.failures++
			delay := min(metadataRetryMin<<min(e.failures-1, 10), metadataRetryMax)
			e.retryAt = time.Now().Add(delay)
			time.AfterFunc(delay, f.poke)
			f.logger.Warn("MetadataService call failed; retrying", "app", r.key.app, "revision", r.key.revision,
				"err", r.err, "retry_in", delay)
		}
		st.changed = true
	}
	return len(done) > 0
}

// start forgets revisions no instance advertises any more and starts the fetches that are due.
func (f *metadataFetcher) start(ctx context.Context, st *state) {
	wanted := map[appRevision][]instance{}
	for app, nodes := range st.apps {
		for _, name := range slices.Sorted(maps.Keys(nodes)) {
			n := nodes[name]
			if n.err == nil && n.inst.revisionOf() != "" {
				k := appRevision{app, n.inst.revisionOf()}
				wanted[k] = append(wanted[k], n.inst)
			}
		}
	}
	for k, e := range st.appMeta {
		if _, ok := wanted[k]; !ok && !e.fetching {
			delete(st.appMeta, k)
			st.changed = true
		}
	}
	now := time.Now()
	for k, insts := range wanted {
		e := st.appMeta[k]
		if e == nil {
			e = &appMetaEntry{}
			st.appMeta[k] = e
		}
		if e.fetched || e.fetching || now.Before(e.retryAt) {
			continue
		}
		e.fetching = true
		inst := insts[e.failures%len(insts)] // after a failure, ask another instance
		f.wg.Go(func() { f.fetch(ctx, k, inst) })
	}
}

// fetch calls getMetadataInfo(revision) on inst and hands the result to the run loop.
func (f *metadataFetcher) fetch(ctx context.Context, key appRevision, inst instance) {
	services, err := f.call(ctx, key, inst)
	f.mu.Lock()
	f.done = append(f.done, fetchResult{key: key, services: services, err: err})
	f.mu.Unlock()
	f.poke()
}

func (f *metadataFetcher) call(ctx context.Context, key appRevision, inst instance) ([]serviceInfo, error) {
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	addr, version, err := metadataTarget(inst)
	if err != nil {
		return nil, err
	}
	defer f.client.CloseEndpoint(addr) // metadata is fetched rarely: hold no connections
	ctx, cancel := context.WithTimeout(ctx, metadataFetchTimeout)
	defer cancel()
	resp, err := f.client.Invoke(ctx, addr, dubborpc.Request{
		Interface: metadataServiceInterface, Version: version, Group: key.app,
		Method: "getMetadataInfo", ParamTypes: []string{"java.lang.String"}, Args: []any{key.revision},
	})
	if err != nil {
		return nil, err
	}
	return parseMetadataInfo(resp.Value, key.revision)
}

// dropGoMethodAliases removes the Go spellings dubbo-go v3.3.2 lists beside the Java names of
// methods renamed by a MethodMapper ("methods=echoUser,EchoUser,..."): a name that starts with an
// upper-case letter goes when the same name with a lower-case first letter is listed too. Java
// method names start lower-case, so no real Java method is dropped. methods must be sorted; the
// result is.
func dropGoMethodAliases(methods []string) []string {
	out := methods[:0:0]
	for _, m := range methods {
		if r, size := utf8.DecodeRuneInString(m); unicode.IsUpper(r) {
			if _, found := slices.BinarySearch(methods, string(unicode.ToLower(r))+m[size:]); found {
				continue
			}
		}
		out = append(out, m)
	}
	return out
}
