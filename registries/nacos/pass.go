package nacos

import (
	"context"
	"fmt"
	"slices"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// pass lists every namespace and group, subscribes to the services that are new (reading each
// once) and unsubscribes from the ones that are gone. A listing that fails changes nothing.
func (s *Source) pass(ctx context.Context, ncs []namespaceClient, st *store) error {
	listed := make([]map[watchKey]bool, len(ncs))
	for i, nc := range ncs {
		keys, err := s.list(ctx, nc)
		if err != nil {
			return err
		}
		listed[i] = keys
	}
	for i, nc := range ncs {
		for _, key := range st.keys(nc.namespace) {
			if listed[i][key] {
				continue
			}
			if param := st.untrack(key); param != nil {
				if err := nc.client.Unsubscribe(param); err != nil {
					// The subscription is forgotten on our side either way; the server drops it
					// with the connection at the latest.
					s.logger.Debug("nacos unsubscribe failed", "namespace", namespaceLabel(key.namespace),
						"group", key.group, "service", key.name, "err", err)
				}
			}
		}
		for _, key := range sortedKeys(listed[i]) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if st.current(key) != nil {
				continue
			}
			if err := s.subscribe(nc, st, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// subscribe subscribes to one service and reads it once: Subscribe calls back only when the
// SDK's cache changes, so a service it has cached already would never be delivered.
func (s *Source) subscribe(nc namespaceClient, st *store, key watchKey) error {
	param := st.track(key)
	w := st.current(key)
	if err := nc.client.Subscribe(param); err != nil {
		// The SDK registered the callback (and remembers the subscription for its redo)
		// before the request failed: take both back, or a later Unsubscribe would leave them.
		st.untrack(key)
		_ = nc.client.Unsubscribe(param)
		return fmt.Errorf("subscribe to %s/%s/%s: %w", namespaceLabel(key.namespace), key.group, key.name, err)
	}
	svc, err := nc.client.GetService(vo.GetServiceParam{ServiceName: key.name, GroupName: key.group})
	if err != nil {
		return fmt.Errorf("read %s/%s/%s: %w", namespaceLabel(key.namespace), key.group, key.name, err)
	}
	st.deliver(key, w, svc.Hosts, false)
	return nil
}

// list returns the services of every configured group of one namespace, page by page.
func (s *Source) list(ctx context.Context, nc namespaceClient) (map[watchKey]bool, error) {
	keys := map[watchKey]bool{}
	for _, group := range s.cfg.Groups {
		seen := 0
		for page := 1; ; page++ {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			l, err := nc.client.GetAllServicesInfo(vo.GetAllServiceInfoParam{
				NameSpace: namespaceLabel(nc.namespace), GroupName: group,
				PageNo: uint32(page), PageSize: uint32(s.cfg.PageSize),
			})
			if err != nil {
				return nil, fmt.Errorf("list services of namespace %s group %s (page %d): %w",
					namespaceLabel(nc.namespace), group, page, err)
			}
			for _, name := range l.Doms {
				keys[watchKey{namespace: nc.namespace, group: group, name: name}] = true
			}
			seen += len(l.Doms)
			// Stop at the end, and never page forever if the count moves while listing:
			// anything missed is found by the next resync.
			if len(l.Doms) == 0 || int64(seen) >= l.Count || int64(page) > l.Count/int64(s.cfg.PageSize)+1 {
				break
			}
		}
	}
	return keys, nil
}

func sortedKeys(m map[watchKey]bool) []watchKey {
	out := make([]watchKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, compareKeys)
	return out
}
