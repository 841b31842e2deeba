package discovery

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"reflect"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/internal/backoff"
	"github.com/rpcbridge/rpcbridge/internal/zkwatch"
)

// Defaults of MetadataCenterOptions.
const (
	DefaultMetadataRoot     = "dubbo"
	DefaultMetadataResync   = 5 * time.Minute
	DefaultMetadataDebounce = 200 * time.Millisecond
)

// metadataSessionTimeout is the ZooKeeper session timeout the MetadataCenter asks for.
const metadataSessionTimeout = 10 * time.Second

// metadataRetryDelay is how long to wait before reading again after a pass failed.
const metadataRetryDelay = time.Second

// MetadataCenterOptions configures a MetadataCenter.
type MetadataCenterOptions struct {
	// Servers are the ZooKeeper addresses ("host:port").
	Servers []string
	// Root is the Dubbo root node without slashes (default "dubbo").
	Root string
	// Logger receives progress and problems; nil discards.
	Logger *slog.Logger
	// Resync is how often the whole metadata tree is read again although no watch fired, a safety
	// net behind the watches (default 5 min; zero or less means the default).
	Resync time.Duration
	// Debounce is how long a burst of watch events may settle before the tree is read again, so
	// that many providers starting together cause one read, not one each (default 200 ms; zero or
	// less means the default).
	Debounce time.Duration
	// Digest is the "user:password" of ZooKeeper digest authentication, added to every
	// session; "" adds none.
	Digest string
}

// MetadataCenter reads the service definitions Java Dubbo providers write to a ZooKeeper
// metadata center. While connected it keeps ZooKeeper watches on the /<root>/metadata tree
// (children watches down to the provider nodes, data watches on the definitions) and reads again,
// after Debounce, whatever a fired watch says changed. It reads the whole tree whenever a
// ZooKeeper session is (re)established and every Resync.
type MetadataCenter struct {
	opts   MetadataCenterOptions
	logger *slog.Logger
}

// NewMetadataCenter checks the options and fills in defaults.
func NewMetadataCenter(opts MetadataCenterOptions) (*MetadataCenter, error) {
	if len(opts.Servers) == 0 {
		return nil, fmt.Errorf("metadata center: no ZooKeeper servers")
	}
	if opts.Root == "" {
		opts.Root = DefaultMetadataRoot
	}
	if opts.Resync <= 0 {
		opts.Resync = DefaultMetadataResync
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultMetadataDebounce
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &MetadataCenter{opts: opts, logger: logger.With("stage", "idl/metadata-center")}, nil
}

// Run follows the metadata center until ctx ends, calling publish with one Schema per Dubbo
// service (interface, version, group), sorted by Name, whenever that list changes, never
// concurrently. The first call, with an empty list, comes at once, so that consumers need not wait
// for ZooKeeper. While ZooKeeper cannot be reached the last published schemas stay. A schema's
// Version starts at 1 and increases when its content changes. Run returns ctx's error, or an error
// when it cannot start at all.
func (m *MetadataCenter) Run(ctx context.Context, publish func([]idl.Schema)) error {
	watches := zkwatch.NewEvents()
	conn, _, err := zk.Connect(m.opts.Servers, metadataSessionTimeout,
		zk.WithLogger(zkLogger{m.logger}), zk.WithLogInfo(false), zk.WithEventCallback(watches.Callback))
	if err != nil {
		return fmt.Errorf("metadata center: connect: %w", err)
	}
	stopAuth := addDigest(ctx, conn, m.opts.Digest, m.logger)
	defer stopAuth()
	defer conn.Close() // closes every watch channel; the callback only sets flags
	tree := newDefinitionTree(conn, watches, m.opts.Root)
	resync := time.NewTicker(m.opts.Resync)
	defer resync.Stop()

	p := publisher{send: publish, logger: m.logger, published: []idl.Schema{},
		previous: map[definitionID]idl.Schema{}, reported: map[string][32]byte{}}
	publish(p.published)
	var retry <-chan time.Time
	unreachable := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-watches.Wake():
		case <-resync.C:
			watches.RequestFull()
		case <-retry:
			retry = nil
			watches.RequestFull()
		}
		if !backoff.Sleep(ctx, m.opts.Debounce) {
			return ctx.Err()
		}
		ch, connected := watches.Take()
		full, dirty := ch.Full, len(ch.Paths) > 0
		if !connected {
			if !unreachable {
				m.logger.Warn("metadata center unreachable; keeping the last schemas")
			}
			unreachable = true // the next session brings a full read
			continue
		}
		if !full && !dirty {
			continue
		}
		nodes, err := tree.read(full)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !unreachable {
				m.logger.Warn("metadata center unreachable; keeping the last schemas", "error", err)
			}
			unreachable = true
			retry = time.After(metadataRetryDelay)
			continue
		}
		if unreachable {
			m.logger.Info("metadata center reachable again")
		}
		unreachable = false
		m.logger.Debug("metadata center read", "full", full, "zkReads", tree.reads, "definitions", len(nodes))
		p.publish(ctx, nodes)
	}
}

// publisher turns each read of the tree into the published schema list.
type publisher struct {
	send      func([]idl.Schema) // Run's publish
	logger    *slog.Logger
	published []idl.Schema                // what send was last called with
	previous  map[definitionID]idl.Schema // last good schema of each service
	reported  map[string][32]byte         // malformed definitions already logged, by path
}

// publish builds the schemas of nodes, logs each malformed definition once per distinct error,
// and publishes the schemas when they changed.
func (p *publisher) publish(ctx context.Context, nodes []definitionNode) {
	schemas, current, problems := buildDefinitionSchemas(ctx, nodes, p.previous)
	p.previous = current
	seen := map[string]bool{}
	for _, pr := range problems {
		seen[pr.Path] = true
		sum := sha256.Sum256([]byte(pr.Err.Error()))
		if p.reported[pr.Path] != sum {
			p.reported[pr.Path] = sum
			p.logger.Warn("skipping a service definition that does not parse", "path", pr.Path, "error", pr.Err)
		}
	}
	for path := range p.reported {
		if !seen[path] {
			delete(p.reported, path)
		}
	}
	next := numberVersions(p.published, schemas)
	if EqualSchemas(p.published, next) {
		return
	}
	p.published = next
	p.send(next)
	p.logger.Info("metadata center schemas changed", "schemas", len(next))
}

// numberVersions gives every schema of next the Version of the same-named schema in last when
// the content is the same, that Version plus one when it changed, and 1 when it is new.
func numberVersions(last, next []idl.Schema) []idl.Schema {
	byName := map[string]idl.Schema{}
	for _, s := range last {
		byName[s.Name] = s
	}
	out := make([]idl.Schema, len(next))
	for i, s := range next {
		prev, ok := byName[s.Name]
		switch {
		case !ok:
			s.Version = 1
		case reflect.DeepEqual(prev.Interfaces, s.Interfaces) && reflect.DeepEqual(prev.Classes, s.Classes):
			s.Version = prev.Version
		default:
			s.Version = prev.Version + 1
		}
		out[i] = s
	}
	return out
}

// zkLogger routes go-zookeeper's log lines to slog at debug level.
type zkLogger struct{ logger *slog.Logger }

// Printf implements zk.Logger.
func (l zkLogger) Printf(format string, args ...any) {
	l.logger.Debug(fmt.Sprintf(format, args...), "component", "go-zookeeper")
}
