// Package xdsclient is a delta ADS (Aggregated Discovery Service) client that subscribes the
// way Envoy does: some types as wildcards (listeners, clusters), others by the names the
// accepted resources refer to (route configurations, load assignments). It ACKs a response
// the Watcher accepts, NACKs (with error_detail) one it rejects while keeping the previous
// state, tracks removals, and reconnects with backoff, keeping its state across streams.
//
// It follows one of several control-plane replicas at a time and moves to the next when its
// stream fails (see Client.Run). The accepted state belongs to the client, not to a stream: a
// new stream, to the same replica or another, announces the versions it holds
// (initial_resource_versions), so a replica with the same content sends nothing again.
//
// Resources are decoded with the global protobuf registry, so the consumer must link in the
// Go packages of the types it subscribes to.
package xdsclient

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
)

// Interest maps a named (non-wildcard) type URL to the resource names to subscribe to.
type Interest map[string][]string

// Watcher consumes the client's state.
type Watcher interface {
	// Accept is called, on the client's goroutine, with the complete state a response would
	// produce. Returning an error rejects (NACKs) the response and keeps the previous state.
	// On success it returns the names to subscribe to for each named type. A response that
	// changes nothing (every resource at the version already held) is ACKed without a call.
	Accept(typeURL string, state State) (Interest, error)
}

// WatcherFunc adapts a function to the Watcher interface.
type WatcherFunc func(typeURL string, state State) (Interest, error)

// Accept calls f.
func (f WatcherFunc) Accept(typeURL string, state State) (Interest, error) { return f(typeURL, state) }

// Response describes one response the client handled.
type Response struct {
	// Server is the replica that sent it.
	Server string
	// TypeURL is its resource type.
	TypeURL string
	// Changed counts the resources it added, replaced by another version, or removed.
	Changed int
	// Err is why it was rejected (NACKed); nil for an ACK.
	Err error
}

// Config configures a Client.
type Config struct {
	// Servers are the control-plane replicas' gRPC addresses (host:port), in the order they
	// are tried; at least one.
	Servers []string
	// Node identifies this client to the control plane.
	Node *corev3.Node
	// WildcardTypes are subscribed to with "*", in this order, when a stream opens.
	WildcardTypes []string
	// NamedTypes are subscribed to by the names the Watcher returns, in this order.
	NamedTypes []string
	// Watcher receives every response that changes the state.
	Watcher Watcher
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// OnResponse, if set, is told about each response once it is handled.
	OnResponse func(Response)
	// OnConnection, if set, is told when the client starts following a server (a new stream
	// received its first response: connected) and when that stream ends (not connected, with
	// the reason).
	OnConnection func(server string, connected bool, err error)
	// Credentials secure the connections; the zero value is plaintext without call
	// credentials.
	Credentials Credentials
	// DialOptions are added after the client's own (credentials, keepalive, 64 MiB messages),
	// so they can override them.
	DialOptions []grpc.DialOption
	// MinBackoff and MaxBackoff bound the reconnection delay (default 100 ms and 10 s); see Run.
	MinBackoff, MaxBackoff time.Duration
	// FirstResponseTimeout is how long connecting to a server and its first response may take
	// before the client gives up on it and tries the next (default 15 s, the default of
	// Envoy's initial_fetch_timeout). It
	// applies only when there are several servers: a replica that has no configuration yet
	// never answers, and with one server there is nowhere else to go.
	FirstResponseTimeout time.Duration
}

// Defaults of Config.
const (
	DefaultMinBackoff           = 100 * time.Millisecond
	DefaultMaxBackoff           = 10 * time.Second
	DefaultFirstResponseTimeout = 15 * time.Second
)

// Client is a delta ADS client. Create it with New and start it with Run.
type Client struct {
	cfg    Config
	logger *slog.Logger
	dial   []grpc.DialOption

	// Owned by the Run goroutine.
	state      State
	subscribed map[string][]string
}

// New returns a client; nothing happens until Run.
func New(cfg Config) *Client {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.FirstResponseTimeout <= 0 {
		cfg.FirstResponseTimeout = DefaultFirstResponseTimeout
	}
	dial := append(cfg.Credentials.dialOptions(), keepaliveOption,
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	return &Client{cfg: cfg, logger: cfg.Logger, dial: append(dial, cfg.DialOptions...),
		state: State{}, subscribed: map[string][]string{}}
}

// deltaStream is the client side of a DeltaAggregatedResources stream.
type deltaStream = grpc.BidiStreamingClient[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]

// subscribeAll sends the opening request of every type, announcing the versions already held
// so that a reconnect only transfers what changed (and learns what was removed meanwhile).
func (c *Client) subscribeAll(stream deltaStream) error {
	first := true
	send := func(typeURL string, names []string) error {
		req := &discoveryv3.DeltaDiscoveryRequest{
			TypeUrl:                 typeURL,
			ResourceNamesSubscribe:  names,
			InitialResourceVersions: c.state.versions(typeURL),
		}
		if first {
			req.Node, first = c.cfg.Node, false
		}
		if err := stream.Send(req); err != nil {
			return fmt.Errorf("subscribe to %s: %w", typeURL, err)
		}
		return nil
	}
	for _, typeURL := range c.cfg.WildcardTypes {
		if err := send(typeURL, []string{"*"}); err != nil {
			return err
		}
	}
	for _, typeURL := range c.cfg.NamedTypes {
		if names := c.subscribed[typeURL]; len(names) > 0 {
			if err := send(typeURL, names); err != nil {
				return err
			}
		}
	}
	return nil
}

// handle applies one response, ACKs or NACKs it, and updates named subscriptions.
func (c *Client) handle(stream deltaStream, server string, resp *discoveryv3.DeltaDiscoveryResponse) error {
	typeURL := resp.GetTypeUrl()
	next, err := c.state.applyDelta(resp)
	if err == nil && slices.Contains(c.cfg.NamedTypes, typeURL) {
		// A response may cross an unsubscribe in flight: ignore names no longer wanted.
		next = next.without(typeURL, diff(c.subscribed[typeURL], slices.Sorted(maps.Keys(next[typeURL]))))
	}
	_, seen := c.state[typeURL]
	changed := changes(c.state[typeURL], next[typeURL])
	var interest Interest
	if err == nil && (changed > 0 || !seen) {
		interest, err = c.cfg.Watcher.Accept(typeURL, next)
	}
	if c.cfg.OnResponse != nil {
		report := Response{Server: server, TypeURL: typeURL, Changed: changed, Err: err}
		if err != nil {
			report.Changed = 0
		}
		c.cfg.OnResponse(report)
	}
	ack := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: resp.GetNonce()}
	if err != nil {
		c.logger.Error("rejecting xds response (NACK), keeping the previous configuration",
			"server", server, "type", typeURL, "nonce", resp.GetNonce(), "error", err)
		ack.ErrorDetail = &statuspb.Status{Code: int32(codes.InvalidArgument), Message: err.Error()}
		if err := stream.Send(ack); err != nil {
			return fmt.Errorf("send NACK for %s: %w", typeURL, err)
		}
		return nil
	}
	c.logger.Debug("accepted xds response", "server", server, "type", typeURL, "nonce", resp.GetNonce(),
		"updated", len(resp.GetResources()), "removed", len(resp.GetRemovedResources()), "changed", changed)
	if err := stream.Send(ack); err != nil {
		return fmt.Errorf("send ACK for %s: %w", typeURL, err)
	}
	if changed == 0 && seen {
		return nil // the state, and so the interest, is what it was
	}
	c.state = next
	return c.updateSubscriptions(stream, interest)
}

// updateSubscriptions sends subscribe/unsubscribe requests for the named types whose wanted
// names changed, and forgets resources no longer subscribed to.
func (c *Client) updateSubscriptions(stream deltaStream, interest Interest) error {
	for _, typeURL := range c.cfg.NamedTypes {
		want := slices.Sorted(slices.Values(interest[typeURL]))
		want = slices.Compact(want)
		have := c.subscribed[typeURL]
		added, removed := diff(have, want), diff(want, have)
		if len(added) == 0 && len(removed) == 0 {
			continue
		}
		req := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResourceNamesSubscribe: added, ResourceNamesUnsubscribe: removed}
		if err := stream.Send(req); err != nil {
			return fmt.Errorf("update %s subscription: %w", typeURL, err)
		}
		c.subscribed[typeURL] = want
		c.state = c.state.without(typeURL, removed)
	}
	return nil
}

// diff returns the names in b that are not in a; both are sorted.
func diff(a, b []string) []string {
	var out []string
	for _, name := range b {
		if _, found := slices.BinarySearch(a, name); !found {
			out = append(out, name)
		}
	}
	return out
}

// Validate reports a Config that cannot work.
func (cfg Config) Validate() error {
	if len(cfg.Servers) == 0 {
		return errors.New("xdsclient: config has no Servers")
	}
	if i := slices.Index(cfg.Servers, ""); i >= 0 {
		return fmt.Errorf("xdsclient: config has an empty server (Servers[%d])", i)
	}
	if cfg.Watcher == nil {
		return errors.New("xdsclient: config has no Watcher")
	}
	return nil
}
