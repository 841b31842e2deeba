package nacos

import (
	"cmp"
	"slices"
	"sync"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// watchKey names one Nacos service.
type watchKey struct{ namespace, group, name string }

func compareKeys(a, b watchKey) int {
	return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.group, b.group), cmp.Compare(a.name, b.name))
}

// watched is one subscribed service.
type watched struct {
	// param is the pointer the subscription was made with; the SDK's Unsubscribe finds the
	// callback by it.
	param *vo.SubscribeParam
	// instances are what the SDK last delivered; have is false until it delivered anything.
	instances []model.Instance
	have      bool
}

// store holds the instances of every subscribed service. The SDK's callbacks write to it from
// its own goroutines (and synchronously from inside Subscribe), so they only record and wake
// the source's loop; they never block on it.
type store struct {
	mu      sync.Mutex
	watched map[watchKey]*watched
	wake    chan struct{}
}

func newStore() *store {
	return &store{watched: map[watchKey]*watched{}, wake: make(chan struct{}, 1)}
}

// track starts watching key and returns the subscription parameter to subscribe with.
func (s *store) track(key watchKey) *vo.SubscribeParam {
	w := &watched{}
	w.param = &vo.SubscribeParam{
		ServiceName: key.name,
		GroupName:   key.group,
		SubscribeCallback: func(instances []model.Instance, err error) {
			if err == nil {
				s.deliver(key, w, instances, true)
			}
		},
	}
	s.mu.Lock()
	s.watched[key] = w
	s.mu.Unlock()
	return w.param
}

// deliver records the instances of a watched service. A callback of an earlier subscription
// of the same key (w no longer current) is ignored. With overwrite false it only fills a
// service that has not been delivered yet: the read after Subscribe must not replace a newer
// push.
func (s *store) deliver(key watchKey, w *watched, instances []model.Instance, overwrite bool) {
	s.mu.Lock()
	if s.watched[key] != w || (w.have && !overwrite) {
		s.mu.Unlock()
		return
	}
	w.instances = slices.Clone(instances)
	w.have = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// current returns the watch of key, or nil.
func (s *store) current(key watchKey) *watched {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watched[key]
}

// untrack stops watching key and returns what it was subscribed with (nil when it was not).
func (s *store) untrack(key watchKey) *vo.SubscribeParam {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.watched[key]
	if w == nil {
		return nil
	}
	delete(s.watched, key)
	return w.param
}

// keys returns the watched keys of a namespace, sorted.
func (s *store) keys(namespace string) []watchKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []watchKey
	for k := range s.watched {
		if k.namespace == namespace {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, compareKeys)
	return out
}

// entries returns every delivered service, sorted.
func (s *store) entries() []entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]entry, 0, len(s.watched))
	for k, w := range s.watched {
		if w.have {
			out = append(out, entry{Namespace: k.namespace, Group: k.group, Name: k.name, Instances: w.instances})
		}
	}
	slices.SortFunc(out, func(a, b entry) int {
		return compareKeys(watchKey{a.Namespace, a.Group, a.Name}, watchKey{b.Namespace, b.Group, b.Name})
	})
	return out
}
