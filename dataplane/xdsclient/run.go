package xdsclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// keepaliveOption pings the server of an idle connection every 30 s and drops the connection
// when a ping is not answered within 10 s, so that a replica that vanished without closing its
// connections (a network partition, a frozen host) is noticed and left for the next one. The
// values are Istio's for its control plane's clients; controlplane.Server permits pings down
// to every 15 s (grpc-go servers answer more frequent ones with GOAWAY "too_many_pings").
var keepaliveOption = grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second})

// Run follows the control plane until ctx ends. It returns nil when ctx ends and an error only
// if a server address cannot be used at all.
//
// It opens one stream at a time, to Servers[0] first. When a stream ends, for whatever reason,
// it moves on to the next server in the list (after the last, the first again): the replicas
// are peers that serve the same content, so the one to leave is the one that just failed, and
// there is no primary to return to. The wait before each attempt follows the shared backoff
// (internal/backoff: doubling from MinBackoff up to MaxBackoff, ±20% jitter, the shape of
// grpc-go's xDS client) and grows only once per complete round of the servers in which none
// answered; it starts over when a stream received a response (gRFC A57, "XdsClient Failure Mode
// Behavior"). While no server answers, the accepted state is kept and nothing is reported to
// the Watcher: the consumer keeps serving its last configuration.
//
// How this compares with the two references:
//   - gRFC A71 ("xDS Fallback"; grpc-go's xDS client with several xds_servers) treats the list
//     as priorities whose lower entries hold worse data: it falls back only when the primary is
//     unreachable and a watched resource is not cached, and returns to the primary as soon as
//     it answers. gRFC A95 adds fallback_on_reachability_only for data, like endpoints, that
//     goes stale when a client clings to its cache. rpcbridge's replicas hold the same data, so
//     this client does what A95's knob does for every type, and never returns to a "primary".
//   - Envoy's xDS failover (ApiConfigSource.grpc_services with a second entry, behind
//     envoy.restart_features.xds_failover_support) uses the failover source only until the
//     primary ever answered, then retries the primary alone; for equal replicas Envoy's way is
//     one xds_cluster with every replica as an endpoint, which `rpcbridge bootstrap` renders.
//
// Unlike A71, a stream to another server does not start from an empty cache: it announces
// every held resource with its version (delta xDS initial_resource_versions, as Envoy does on
// every reconnect), so a replica with the same content sends nothing but what it holds
// differently, and removals are learned from it. A new stream that stays silent for
// FirstResponseTimeout (a replica that has no configuration yet) is abandoned for the next
// server when there is one.
func (c *Client) Run(ctx context.Context) error {
	if err := c.cfg.Validate(); err != nil {
		return err
	}
	for _, server := range c.cfg.Servers {
		// grpc.NewClient only parses the target and the options; nothing connects yet.
		conn, err := grpc.NewClient(server, c.dial...)
		if err != nil {
			return fmt.Errorf("xds client for %s: %w", server, err)
		}
		_ = conn.Close()
	}
	reconnect := backoff.Config{BaseDelay: c.cfg.MinBackoff, Multiplier: 2, Jitter: 0.2, MaxDelay: c.cfg.MaxBackoff}
	servers := len(c.cfg.Servers)
	failures := 0 // stream attempts in a row that ended without a response
	for i := 0; ; i = (i + 1) % servers {
		server := c.cfg.Servers[i]
		received, err := c.runStream(ctx, server)
		if ctx.Err() != nil {
			return nil
		}
		if received {
			failures = 0
		}
		wait := reconnect.Backoff(failures / servers)
		failures++
		c.logger.Warn("xds stream ended, keeping the last accepted configuration", "server", server, "error", err,
			"next", c.cfg.Servers[(i+1)%servers], "retry_in", wait)
		if !backoff.Sleep(ctx, wait) {
			return nil
		}
	}
}

// errSilent ends a stream whose server sent nothing within FirstResponseTimeout.
var errSilent = errors.New("no response within the first-response timeout")

// runStream opens one stream to server, subscribes, and handles responses until the stream
// fails. It reports whether any response was received.
func (c *Client) runStream(ctx context.Context, server string) (bool, error) {
	conn, err := grpc.NewClient(server, c.dial...)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The first-response timer also covers connecting: a replica that drops packets would
	// otherwise hold the stream for grpc-go's 20 s connection timeout.
	quiet := func() bool { return false } // stops the first-response timer
	if len(c.cfg.Servers) > 1 {
		silent := time.AfterFunc(c.cfg.FirstResponseTimeout, func() { cancel(errSilent) })
		defer silent.Stop()
		quiet = silent.Stop
	}
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).DeltaAggregatedResources(ctx)
	if err != nil {
		return false, silentOr(ctx, fmt.Errorf("open delta ADS stream: %w", err))
	}
	if err := c.subscribeAll(stream); err != nil {
		return false, silentOr(ctx, err)
	}
	received := false
	for {
		resp, err := stream.Recv()
		if err == nil && !received {
			received = true
			quiet()
			c.connected(server, true, nil)
		}
		if err == nil {
			err = c.handle(stream, server, resp)
		} else {
			err = silentOr(ctx, fmt.Errorf("receive: %w", err))
		}
		if err != nil {
			if received {
				c.connected(server, false, err)
			}
			return received, err
		}
	}
}

// silentOr returns errSilent when the first-response timer ended ctx, else err.
func silentOr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, errSilent) {
		return cause
	}
	return err
}

// connected reports a change of the server followed.
func (c *Client) connected(server string, connected bool, err error) {
	if connected {
		c.logger.Info("xds connected", "server", server)
	}
	if c.cfg.OnConnection != nil {
		c.cfg.OnConnection(server, connected, err)
	}
}
