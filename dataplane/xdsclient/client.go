// Package xdsclient is a delta ADS (Aggregated Discovery Service) client that subscribes the
// way Envoy does: some types as wildcards (listeners, clusters), others by the names the
// accepted resources refer to (route configurations, load assignments). It ACKs a response
// the Watcher accepts, NACKs (with error_detail) one it rejects while keeping the previous
// state, tracks removals, and reconnects with backoff, keeping its state across streams.
//
// Resources are decoded with the global protobuf registry, so the consumer must link in the
// Go packages of the types it subscribes to.
package xdsclient

import (
	"context"
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
	"google.golang.org/grpc/credentials/insecure"

	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// Interest maps a named (non-wildcard) type URL to the resource names to subscribe to.
type Interest map[string][]string

// Watcher consumes the client's state.
type Watcher interface {
	// Accept is called, on the client's goroutine, with the complete state a response would
	// produce. Returning an error rejects (NACKs) the response and keeps the previous state.
	// On success it returns the names to subscribe to for each named type.
	Accept(typeURL string, state State) (Interest, error)
}

// WatcherFunc adapts a function to the Watcher interface.
type WatcherFunc func(typeURL string, state State) (Interest, error)

// Accept calls f.
func (f WatcherFunc) Accept(typeURL string, state State) (Interest, error) { return f(typeURL, state) }

// Config configures a Client.
type Config struct {
	// Address is the control plane's gRPC address (host:port).
	Address string
	// Node identifies this client to the control plane.
	Node *corev3.Node
	// WildcardTypes are subscribed to with "*", in this order, when a stream opens.
	WildcardTypes []string
	// NamedTypes are subscribed to by the names the Watcher returns, in this order.
	NamedTypes []string
	// Watcher receives every response.
	Watcher Watcher
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger
	// OnResponse, if set, is told about each response: err is nil for an ACK.
	OnResponse func(typeURL string, err error)
	// DialOptions replace the default (insecure credentials, 64 MiB messages).
	DialOptions []grpc.DialOption
	// MinBackoff and MaxBackoff bound the reconnection delay (default 100 ms and 10 s), which
	// doubles per stream that ends without a response and is jittered by ±20%.
	MinBackoff, MaxBackoff time.Duration
}

// Client is a delta ADS client. Create it with New and start it with Run.
type Client struct {
	cfg    Config
	logger *slog.Logger

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
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.DialOptions == nil {
		cfg.DialOptions = []grpc.DialOption{
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
		}
	}
	return &Client{cfg: cfg, logger: cfg.Logger, state: State{}, subscribed: map[string][]string{}}
}

// Run keeps an ADS stream open until ctx ends, reconnecting with backoff. It returns nil when
// ctx ends and an error only if the connection cannot be set up at all.
func (c *Client) Run(ctx context.Context) error {
	if err := c.cfg.Validate(); err != nil {
		return err
	}
	conn, err := grpc.NewClient(c.cfg.Address, c.cfg.DialOptions...)
	if err != nil {
		return fmt.Errorf("xds client for %s: %w", c.cfg.Address, err)
	}
	defer conn.Close()
	ads := discoveryv3.NewAggregatedDiscoveryServiceClient(conn)
	// grpc-go's own xDS client reconnects with the same shape (doubling, ±20% jitter).
	reconnect := backoff.Config{BaseDelay: c.cfg.MinBackoff, Multiplier: 2, Jitter: 0.2, MaxDelay: c.cfg.MaxBackoff}
	failures := 0 // streams in a row that ended without a response
	for {
		received, err := c.runStream(ctx, ads)
		if ctx.Err() != nil {
			return nil
		}
		if received {
			failures = 0
		}
		wait := reconnect.Backoff(failures)
		failures++
		c.logger.Warn("xds stream ended, keeping the last accepted configuration", "address", c.cfg.Address, "error", err, "retry_in", wait)
		if !backoff.Sleep(ctx, wait) {
			return nil
		}
	}
}

// deltaStream is the client side of a DeltaAggregatedResources stream.
type deltaStream = grpc.BidiStreamingClient[discoveryv3.DeltaDiscoveryRequest, discoveryv3.DeltaDiscoveryResponse]

// runStream opens one stream, subscribes, and handles responses until the stream fails. It
// reports whether any response was received.
func (c *Client) runStream(ctx context.Context, ads discoveryv3.AggregatedDiscoveryServiceClient) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := ads.DeltaAggregatedResources(ctx)
	if err != nil {
		return false, fmt.Errorf("open delta ADS stream: %w", err)
	}
	if err := c.subscribeAll(stream); err != nil {
		return false, err
	}
	received := false
	for {
		resp, err := stream.Recv()
		if err != nil {
			return received, fmt.Errorf("receive: %w", err)
		}
		received = true
		if err := c.handle(stream, resp); err != nil {
			return received, err
		}
	}
}

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
func (c *Client) handle(stream deltaStream, resp *discoveryv3.DeltaDiscoveryResponse) error {
	typeURL := resp.GetTypeUrl()
	next, err := c.state.applyDelta(resp)
	if err == nil && slices.Contains(c.cfg.NamedTypes, typeURL) {
		// A response may cross an unsubscribe in flight: ignore names no longer wanted.
		next = next.without(typeURL, diff(c.subscribed[typeURL], slices.Sorted(maps.Keys(next[typeURL]))))
	}
	var interest Interest
	if err == nil {
		interest, err = c.cfg.Watcher.Accept(typeURL, next)
	}
	if c.cfg.OnResponse != nil {
		c.cfg.OnResponse(typeURL, err)
	}
	ack := &discoveryv3.DeltaDiscoveryRequest{TypeUrl: typeURL, ResponseNonce: resp.GetNonce()}
	if err != nil {
		c.logger.Error("rejecting xds response (NACK), keeping the previous configuration",
			"type", typeURL, "nonce", resp.GetNonce(), "error", err)
		ack.ErrorDetail = &statuspb.Status{Code: int32(codes.InvalidArgument), Message: err.Error()}
		if err := stream.Send(ack); err != nil {
			return fmt.Errorf("send NACK for %s: %w", typeURL, err)
		}
		return nil
	}
	c.state = next
	c.logger.Debug("accepted xds response", "type", typeURL, "nonce", resp.GetNonce(),
		"updated", len(resp.GetResources()), "removed", len(resp.GetRemovedResources()))
	if err := stream.Send(ack); err != nil {
		return fmt.Errorf("send ACK for %s: %w", typeURL, err)
	}
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
	if cfg.Address == "" {
		return errors.New("xdsclient: config has no Address")
	}
	if cfg.Watcher == nil {
		return errors.New("xdsclient: config has no Watcher")
	}
	return nil
}
