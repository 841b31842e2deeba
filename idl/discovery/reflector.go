package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/idl"
	protoidl "github.com/rpcbridge/rpcbridge/idl/proto"
	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// Defaults of ReflectorOptions.
const (
	DefaultReflectDialTimeout = 10 * time.Second
	DefaultReflectRefresh     = 10 * time.Minute
)

// reflectRetry spaces the failed reflection attempts of one service.
var reflectRetry = backoff.Config{BaseDelay: time.Second, Multiplier: 2, Jitter: 0.2, MaxDelay: time.Minute}

// ReflectorOptions configures a Reflector.
type ReflectorOptions struct {
	// Include holds globs (path.Match syntax) on catalog service names; only gRPC and Triple
	// services that match one are reflected. Empty means none: reflection is opt-in.
	Include []string
	// Logger receives failures; nil discards.
	Logger *slog.Logger
	// DialTimeout bounds one reflection call, connecting included (default 10 s).
	DialTimeout time.Duration
	// Refresh is how often a service is asked again while its endpoints stay the same
	// (default 10 min).
	Refresh time.Duration
}

// Reflector fetches the descriptors of catalog services through gRPC server reflection.
type Reflector struct {
	opts   ReflectorOptions
	logger *slog.Logger
}

// NewReflector returns a Reflector with defaults filled in.
func NewReflector(opts ReflectorOptions) *Reflector {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultReflectDialTimeout
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultReflectRefresh
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Reflector{opts: opts, logger: logger.With("stage", "idl/reflect")}
}

// reflected is what the Reflector knows of one service.
type reflected struct {
	target    reflectTarget
	schema    *idl.Schema // last good schema, kept across failures
	fetchedAt time.Time
	nextTry   time.Time // after a failure
	failures  int
	inFlight  bool
}

// reflectResult is the outcome of one fetch.
type reflectResult struct {
	target reflectTarget
	set    *descriptorpb.FileDescriptorSet
	err    error
}

// Run follows the catalogs it receives until ctx ends, calling publish with one Schema per
// reflected service (sorted by Name, named "reflect-<service>") whenever that list changes, never
// concurrently; the first call, with an empty list, comes at once, so consumers need not wait for
// the first fetch. Fetches run in the background; a failed fetch keeps the service's previous
// schema and is retried with backoff. Each catalog received replaces the previous one; a closed
// catalogs channel keeps the last. Run returns ctx's error.
func (r *Reflector) Run(ctx context.Context, catalogs <-chan bridge.Catalog, publish func([]idl.Schema)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	known := map[string]*reflected{}
	results := make(chan reflectResult)
	var targets map[string]reflectTarget
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	published := r.schemas(nil, known)
	publish(published)
	for {
		wake := r.reconcile(ctx, time.Now(), targets, known, results)
		if next := r.schemas(targets, known); !EqualSchemas(published, next) {
			published = next
			publish(published)
		}
		timer.Reset(time.Until(wake))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case cat, ok := <-catalogs:
			if !ok {
				catalogs = nil // no more catalogs: keep following the last one
				continue
			}
			targets = reflectTargets(cat, r.opts.Include)
		case <-timer.C:
		case res := <-results:
			r.record(time.Now(), res, known)
		}
	}
}

// reconcile drops services no longer targeted, starts the fetches that are due and returns when
// the next one will be due.
func (r *Reflector) reconcile(ctx context.Context, now time.Time, targets map[string]reflectTarget,
	known map[string]*reflected, results chan<- reflectResult) time.Time {
	for name, k := range known {
		if _, ok := targets[name]; !ok && !k.inFlight {
			delete(known, name)
		}
	}
	wake := now.Add(r.opts.Refresh)
	for name, t := range targets {
		k := known[name]
		if k == nil {
			k = &reflected{}
			known[name] = k
		}
		if k.inFlight {
			continue
		}
		due := k.fetchedAt.Add(r.opts.Refresh)
		if k.failures > 0 {
			due = k.nextTry
		}
		if k.target != t {
			due = now // new service or a changed endpoint set
			k.failures = 0
		}
		if t.addr == "" {
			k.target = t // nothing to dial: keep the last schema until an endpoint comes back
			continue
		}
		if due.After(now) {
			if due.Before(wake) {
				wake = due
			}
			continue
		}
		k.target, k.inFlight = t, true
		go func() {
			set, err := r.fetch(ctx, t)
			select {
			case results <- reflectResult{target: t, set: set, err: err}:
			case <-ctx.Done():
			}
		}()
	}
	return wake
}

// record stores the outcome of a fetch.
func (r *Reflector) record(now time.Time, res reflectResult, known map[string]*reflected) {
	k := known[res.target.service]
	if k == nil {
		return
	}
	k.inFlight = false
	if res.err != nil {
		k.failures++
		delay := reflectRetry.Backoff(k.failures - 1)
		k.nextTry = now.Add(delay)
		r.logger.Warn("server reflection failed; keeping the previous schema", "service", res.target.service,
			"endpoint", res.target.addr, "failures", k.failures, "retry_in", delay, "error", res.err)
		return
	}
	k.failures, k.fetchedAt = 0, now
	changed := k.schema == nil || !proto.Equal(k.schema.Descriptors, res.set)
	r.logger.Info("fetched service descriptors through server reflection", "service", res.target.service,
		"endpoint", res.target.addr, "files", len(res.set.GetFile()), "changed", changed)
	if !changed {
		return
	}
	version := int64(1)
	if k.schema != nil {
		version = k.schema.Version + 1
	}
	k.schema = &idl.Schema{Version: version, Descriptors: res.set}
}

// fetch dials the target's endpoint (plaintext HTTP/2) and asks it for the service.
func (r *Reflector) fetch(ctx context.Context, t reflectTarget) (*descriptorpb.FileDescriptorSet, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.DialTimeout)
	defer cancel()
	conn, err := grpc.NewClient("passthrough:///"+t.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", t.addr, err)
	}
	defer conn.Close()
	set, err := protoidl.Reflect(ctx, conn, []string{t.service})
	if err != nil {
		return nil, fmt.Errorf("reflect %s at %s: %w", t.service, t.addr, err)
	}
	return set, nil
}

// schemas lists the known schemas of the targeted services, named and sorted.
func (r *Reflector) schemas(targets map[string]reflectTarget, known map[string]*reflected) []idl.Schema {
	items := make([]named, 0, len(known))
	for name, k := range known {
		if _, ok := targets[name]; ok && k.schema != nil {
			items = append(items, named{prefix: "reflect", parts: []string{name}, schema: *k.schema})
		}
	}
	return finish(items)
}
