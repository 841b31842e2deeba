package consul

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/consulwatch"
	"github.com/rpcbridge/rpcbridge/registries"
)

// activity is what the source counts of its queries, for registries.ActivityReporter.
type activity struct {
	// listed is set once the first complete listing is done; rearms counts the queries issued
	// after it; lastSync is when a query last answered (Unix ns).
	listed   atomic.Bool
	rearms   atomic.Uint64
	lastSync atomic.Int64
}

var _ registries.ActivityReporter = (*Source)(nil)

// Activity reports when a query last answered and the blocking queries issued since the
// first complete listing. See registries.ActivityReporter.
func (s *Source) Activity() registries.Activity {
	var a registries.Activity
	if n := s.activity.lastSync.Load(); n != 0 {
		a.LastSync = time.Unix(0, n)
	}
	a.WatchRearms = s.activity.rearms.Load()
	return a
}

// counted wraps q so that its calls are counted in a.
func counted[T any](a *activity, q consulwatch.Query[T]) consulwatch.Query[T] {
	return func(ctx context.Context, index uint64) (T, uint64, error) {
		if a.listed.Load() {
			a.rearms.Add(1)
		}
		v, got, err := q(ctx, index)
		if err == nil {
			a.lastSync.Store(time.Now().UnixNano())
		}
		return v, got, err
	}
}
