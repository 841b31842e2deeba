package discovery

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"reflect"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/internal/bus"
)

// Defaults of MetadataCenterOptions.
const (
	DefaultMetadataRoot   = "dubbo"
	DefaultMetadataResync = time.Minute
)

// metadataSessionTimeout is the ZooKeeper session timeout the MetadataCenter asks for.
const metadataSessionTimeout = 10 * time.Second

// MetadataCenterOptions configures a MetadataCenter.
type MetadataCenterOptions struct {
	// Servers are the ZooKeeper addresses ("host:port").
	Servers []string
	// Root is the Dubbo root node without slashes (default "dubbo").
	Root string
	// Logger receives progress and problems; nil discards.
	Logger *slog.Logger
	// Resync is how often the metadata center is listed again (default 1 min).
	Resync time.Duration
}

// MetadataCenter reads the service definitions Java Dubbo providers write to a ZooKeeper
// metadata center. It re-lists the whole /<root>/metadata tree every Resync and whenever a
// ZooKeeper session is (re)established; it does not set watches.
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
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &MetadataCenter{opts: opts, logger: logger.With("stage", "idl/metadata-center")}, nil
}

// Run lists the metadata center until ctx ends and publishes one Schema per Dubbo service
// (interface, version, group) on out, sorted by Name. It publishes an empty list first so that
// consumers need not wait for ZooKeeper. While ZooKeeper cannot be reached the last published
// schemas stay. A schema's Version starts at 1 and increases when its content changes.
func (m *MetadataCenter) Run(ctx context.Context, out *bus.Topic[[]idl.Schema]) error {
	conn, events, err := zk.Connect(m.opts.Servers, metadataSessionTimeout,
		zk.WithLogger(zkLogger{m.logger}), zk.WithLogInfo(false))
	if err != nil {
		return fmt.Errorf("metadata center: connect: %w", err)
	}
	defer conn.Close()
	ticker := time.NewTicker(m.opts.Resync)
	defer ticker.Stop()

	out.Publish([]idl.Schema{})
	var published []idl.Schema
	previous := map[definitionID]idl.Schema{}
	reported := map[string][32]byte{} // malformed definitions already logged, by path
	unreachable := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev := <-events:
			if ev.Type != zk.EventSession || ev.State != zk.StateHasSession {
				continue
			}
		case <-ticker.C:
		}
		nodes, err := m.list(conn)
		if err != nil {
			if !unreachable {
				m.logger.Warn("metadata center unreachable; keeping the last schemas", "error", err)
			}
			unreachable = true
			continue
		}
		if unreachable {
			m.logger.Info("metadata center reachable again")
		}
		unreachable = false
		schemas, current, problems := buildDefinitionSchemas(ctx, nodes, previous)
		previous = current
		seen := map[string]bool{}
		for _, p := range problems {
			seen[p.Path] = true
			sum := sha256.Sum256([]byte(p.Err.Error()))
			if reported[p.Path] != sum {
				reported[p.Path] = sum
				m.logger.Warn("skipping a service definition that does not parse", "path", p.Path, "error", p.Err)
			}
		}
		for p := range reported {
			if !seen[p] {
				delete(reported, p)
			}
		}
		published = numberVersions(published, schemas)
		if out.Publish(published) {
			m.logger.Info("metadata center schemas changed", "schemas", len(published))
		}
	}
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

// list reads every provider definition under /<root>/metadata. A missing metadata node is an
// empty list; a node that disappears during the walk is left out.
func (m *MetadataCenter) list(conn *zk.Conn) ([]definitionNode, error) {
	if conn.State() != zk.StateHasSession {
		return nil, fmt.Errorf("no ZooKeeper session (state %v)", conn.State())
	}
	base := "/" + m.opts.Root + "/metadata"
	ifaces, _, err := conn.Children(base)
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", base, err)
	}
	var nodes []definitionNode
	for _, iface := range ifaces {
		if err := walkDefinitions(conn, path.Join(base, iface), iface, nil, &nodes); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// walkDefinitions descends from an interface node through at most two version/group segments to
// "provider" nodes and reads their application children; "consumer" nodes are skipped.
func walkDefinitions(conn *zk.Conn, dir, iface string, between []string, nodes *[]definitionNode) error {
	children, _, err := conn.Children(dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, c := range children {
		switch {
		case c == "provider":
			if err := readProviders(conn, path.Join(dir, c), iface, between, nodes); err != nil {
				return err
			}
		case c == "consumer" || len(between) >= 2:
		default:
			next := append(append([]string{}, between...), c)
			if err := walkDefinitions(conn, path.Join(dir, c), iface, next, nodes); err != nil {
				return err
			}
		}
	}
	return nil
}

// readProviders reads the definition of every application under a provider node.
func readProviders(conn *zk.Conn, dir, iface string, between []string, nodes *[]definitionNode) error {
	apps, _, err := conn.Children(dir)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, app := range apps {
		p := path.Join(dir, app)
		data, _, err := conn.Get(p)
		if errors.Is(err, zk.ErrNoNode) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		*nodes = append(*nodes, definitionNode{Path: p, Interface: iface, Between: between, App: app, Data: data})
	}
	return nil
}

// zkLogger routes go-zookeeper's log lines to slog at debug level.
type zkLogger struct{ logger *slog.Logger }

// Printf implements zk.Logger.
func (l zkLogger) Printf(format string, args ...any) {
	l.logger.Debug(fmt.Sprintf(format, args...), "component", "go-zookeeper")
}
