package dubbometa

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// Timings of MetadataService calls.
const (
	fetchTimeout = 5 * time.Second
	fetchWorkers = 4
)

// retry spaces the calls for one (application, revision) after failed ones; the jitter keeps
// the revisions that failed together (a network blip) from being asked again in step.
var retry = backoff.Config{BaseDelay: time.Second, Multiplier: 2, Jitter: 0.2, MaxDelay: 2 * time.Minute}

// Revision identifies one metadata revision of an application.
type Revision struct{ App, Revision string }

// Entry is what the MetadataService said for one (application, revision).
type Entry struct {
	// Services are valid once Fetched is true.
	Services []ServiceInfo
	Fetched  bool
	// Err is the last failure and Failures how many calls failed in a row.
	Err      error
	Failures int

	fetching bool
	retryAt  time.Time
}

// Cache holds the entries of every (application, revision) a source needs. Only the source's
// run loop touches it, through Fetcher.Start and Fetcher.Apply.
type Cache map[Revision]*Entry

// Fetcher calls MetadataServices for a source's run loop. Its goroutines only make calls;
// results go back to the run loop (Apply), which alone touches the Cache.
type Fetcher struct {
	client *dubborpc.Client
	logger *slog.Logger
	sem    chan struct{}
	wake   chan struct{}
	wg     sync.WaitGroup

	mu   sync.Mutex
	done []fetchResult
}

type fetchResult struct {
	key      Revision
	services []ServiceInfo
	err      error
}

// NewFetcher returns a fetcher that logs to logger.
func NewFetcher(logger *slog.Logger) *Fetcher {
	return &Fetcher{
		client: dubborpc.New(dubborpc.Options{DialTimeout: fetchTimeout, Logger: logger}),
		logger: logger, sem: make(chan struct{}, fetchWorkers), wake: make(chan struct{}, 1),
	}
}

// Wake receives when a MetadataService answered or a retry is due: the run loop then calls
// Apply and Start.
func (f *Fetcher) Wake() <-chan struct{} { return f.wake }

func (f *Fetcher) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Close waits for running fetches (they end with the context given to Start) and closes
// connections.
func (f *Fetcher) Close() {
	f.wg.Wait()
	_ = f.client.Close()
}

// Apply moves finished fetches into cache and reports whether any entry changed.
func (f *Fetcher) Apply(cache Cache) bool {
	f.mu.Lock()
	done := f.done
	f.done = nil
	f.mu.Unlock()
	changed := false
	for _, r := range done {
		e := cache[r.key]
		if e == nil {
			continue // the revision went away meanwhile
		}
		e.fetching = false
		if r.err == nil {
			e.Services, e.Fetched, e.Err, e.Failures = r.services, true, nil, 0
		} else {
			e.Err = r.err
			e.Failures++
			delay := retry.Backoff(e.Failures - 1)
			e.retryAt = time.Now().Add(delay)
			time.AfterFunc(delay, f.poke)
			f.logger.Warn("MetadataService call failed; retrying", "app", r.key.App, "revision", r.key.Revision,
				"err", r.err, "retry_in", delay)
		}
		changed = true
	}
	return changed
}

// Start forgets the revisions of cache that no instance advertises any more and starts the
// fetches that are due. instances are every usable application-level instance, in a stable
// order: after a failure, the next instance of the same revision is asked. It reports whether
// cache lost entries.
func (f *Fetcher) Start(ctx context.Context, cache Cache, instances []Instance) bool {
	wanted := map[Revision][]Instance{}
	for _, in := range instances {
		if rev := in.Revision(); rev != "" {
			k := Revision{App: in.App, Revision: rev}
			wanted[k] = append(wanted[k], in)
		}
	}
	changed := false
	for k, e := range cache {
		if _, ok := wanted[k]; !ok && !e.fetching {
			delete(cache, k)
			changed = true
		}
	}
	now := time.Now()
	for k, insts := range wanted {
		if len(insts) == 0 {
			continue
		}
		e := cache[k]
		if e == nil {
			e = &Entry{}
			cache[k] = e
		}
		if e.Fetched || e.fetching || now.Before(e.retryAt) {
			continue
		}
		e.fetching = true
		inst := insts[e.Failures%len(insts)] // after a failure, ask another instance
		f.wg.Go(func() { f.fetch(ctx, k, inst) })
	}
	return changed
}

// fetch calls getMetadataInfo(revision) on inst and hands the result to the run loop.
func (f *Fetcher) fetch(ctx context.Context, key Revision, inst Instance) {
	services, err := f.call(ctx, key, inst)
	f.mu.Lock()
	f.done = append(f.done, fetchResult{key: key, services: services, err: err})
	f.mu.Unlock()
	f.poke()
}

func (f *Fetcher) call(ctx context.Context, key Revision, inst Instance) ([]ServiceInfo, error) {
	select {
	case f.sem <- struct{}{}:
		defer func() { <-f.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	addr, version, err := Target(inst)
	if err != nil {
		return nil, err
	}
	defer f.client.CloseEndpoint(addr) // metadata is fetched rarely: hold no connections
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	resp, err := f.client.Invoke(ctx, addr, dubborpc.Request{
		Interface: MetadataServiceInterface, Version: version, Group: key.App,
		Method: "getMetadataInfo", ParamTypes: []string{"java.lang.String"}, Args: []any{key.Revision},
	})
	if err != nil {
		return nil, err
	}
	return ParseMetadataInfo(resp.Value, key.Revision)
}
