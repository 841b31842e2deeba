// Package dubborpc is a client of the Dubbo 2 protocol (the "dubbo" protocol: a 16-byte header
// and a hessian2 body) for calling Dubbo providers, Java or Go, directly and through Dubbo's
// generic service.
//
// A Client keeps one Endpoint (a small pool of multiplexed connections) per provider address.
// Calls carry request ids, so many run at once on one connection; heartbeats find dead
// connections; a failed connection is redialed with exponential backoff; a call's context
// deadline becomes the provider's timeout, and a response that comes after the caller gave up is
// dropped. So that one call cannot fail the others on a connection (isolate.go), a request over
// the provider's payload limit is refused before it is sent, a large request goes on a connection
// of its own, and an oversized response fails only its call.
//
// Serialization uses github.com/apache/dubbo-go-hessian2, whose class registry is process-wide:
// this package registers nothing in it and decodes objects of unregistered classes into maps
// (with the class name under the "_class" key). One effect cannot be avoided: when a provider
// throws an exception class the registry does not know, hessian2 registers a generic Throwable
// type under that class name, for the life of the process. Other packages that register POJOs
// (hessian.RegisterPOJO) change what Invoke returns for those classes: Go structs instead of
// maps.
package dubborpc

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultConnectionsPerEndpoint = 1
	DefaultDialTimeout            = 3 * time.Second
	DefaultWriteTimeout           = 10 * time.Second
	DefaultTimeout                = 3 * time.Second
	// DefaultHeartbeatInterval is how long a connection may be quiet before a heartbeat goes
	// out; the heartbeat timeout defaults to three of them (Dubbo's rule) — 3 s, against
	// Dubbo's 60 s / 180 s, so that a frozen provider is found in seconds (heartbeat.go).
	DefaultHeartbeatInterval   = time.Second
	DefaultReconnectBackoff    = 100 * time.Millisecond
	DefaultMaxReconnectBackoff = 10 * time.Second
	DefaultMaxBodySize         = 8 << 20 // Dubbo's own default payload limit
)

// Options configures a Client. Zero fields take the defaults.
type Options struct {
	// ConnectionsPerEndpoint is how many connections each provider address gets (default 1).
	ConnectionsPerEndpoint int
	// DialTimeout bounds one connection attempt.
	DialTimeout time.Duration
	// WriteTimeout bounds writing one packet; a connection that cannot take a packet for this
	// long is closed.
	WriteTimeout time.Duration
	// DefaultTimeout is the call timeout when the context has no deadline.
	DefaultTimeout time.Duration
	// HeartbeatInterval is how long a connection may be quiet before a heartbeat is sent.
	HeartbeatInterval time.Duration
	// HeartbeatTimeout is how long a connection may receive nothing before it is closed as
	// dead (default 3 × HeartbeatInterval). A new connection's handshake heartbeat must be
	// answered within DialTimeout.
	HeartbeatTimeout time.Duration
	// ReconnectBackoff is the wait after the first failed dial; it doubles per failure up to
	// MaxReconnectBackoff.
	ReconnectBackoff    time.Duration
	MaxReconnectBackoff time.Duration
	// MaxBodySize limits response bodies, and request bodies whose Request has no
	// PayloadLimit (default 8 MiB). A larger response fails its call alone.
	MaxBodySize int
	// Logger receives connection events (default: discard).
	Logger *slog.Logger
	// IsolateAbove is the request packet size, in bytes, above which a call goes on a
	// connection of its own instead of a shared one (default DefaultIsolateAbove; negative:
	// never). See isolate.go.
	IsolateAbove int
	// MaxIsolated bounds the calls of one endpoint that run on connections of their own at
	// once; more wait for one to end (default DefaultMaxIsolated).
	MaxIsolated int
}

func (o Options) withDefaults() Options {
	set := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.ConnectionsPerEndpoint <= 0 {
		o.ConnectionsPerEndpoint = DefaultConnectionsPerEndpoint
	}
	set(&o.DialTimeout, DefaultDialTimeout)
	set(&o.WriteTimeout, DefaultWriteTimeout)
	set(&o.DefaultTimeout, DefaultTimeout)
	set(&o.HeartbeatInterval, DefaultHeartbeatInterval)
	set(&o.HeartbeatTimeout, 3*o.HeartbeatInterval)
	set(&o.ReconnectBackoff, DefaultReconnectBackoff)
	set(&o.MaxReconnectBackoff, DefaultMaxReconnectBackoff)
	o.MaxReconnectBackoff = max(o.MaxReconnectBackoff, o.ReconnectBackoff)
	if o.MaxBodySize <= 0 {
		o.MaxBodySize = DefaultMaxBodySize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Request is one call.
type Request struct {
	// Interface is the Dubbo service interface (also its path).
	Interface string
	// Version and Group select the service ("" when the provider has none).
	Version string
	Group   string
	// Method is the method name.
	Method string
	// ParamTypes are the Java parameter types ("java.lang.String", "int", "long[]",
	// "org.foo.User"), one per argument; they select among overloads.
	ParamTypes []string
	// Args are the arguments, encoded with hessian2: Go int32 for Java int, int64 for long,
	// string, bool, float64, []byte, time.Time for java.util.Date, maps, slices, registered POJOs.
	Args []any
	// Attachments are sent with the call; path, interface, version, group, timeout and dubbo
	// are set by the client.
	Attachments map[string]string
	// PayloadLimit is the provider's payload limit (Dubbo's "payload" URL parameter): a request
	// whose body is larger fails with ErrPayloadTooLarge without being sent. 0 means
	// Options.MaxBodySize.
	PayloadLimit int
}

// Response is the result of a call that returned normally.
type Response struct {
	// Value is the decoded return value (nil for null or void). Objects of classes not
	// registered with hessian2 come as map[string]any with the class under "_class"; Java maps
	// come as map[any]any.
	Value any
	// Attachments are the response attachments (providers of Dubbo ≥ 2.0.2 send them).
	Attachments map[string]string
}

// GenericRequest builds the $invoke request that calls method through Dubbo's generic service
// (the generic=true attachment), with the exact erased Java parameter types (which select the
// overload) and args, one per type. Args may be plain values and maps (a map's "class" key
// names the POJO class; the provider realizes it), or RawArgs holding typed hessian2 objects,
// which providers take as they are: dubbo-go providers realize maps only into their Go types,
// so a typed object is what carries a BigDecimal or an enum inside a DTO to them. RawArgs and
// POJOs registered with hessian2 must not be mixed in one call: each numbers its class
// definitions from zero. The request keeps paramTypes and args (it does not copy them), so
// they must not change while it is in use.
func GenericRequest(iface, version, group, method string, paramTypes []string, args []any, attachments map[string]string) Request {
	att := make(map[string]string, len(attachments)+1)
	maps.Copy(att, attachments)
	att["generic"] = "true"
	return Request{
		Interface: iface, Version: version, Group: group, Method: "$invoke",
		ParamTypes:  invokeParamTypes[:len(invokeParamTypes):len(invokeParamTypes)], // shared: read only
		Args:        []any{method, nonNil(paramTypes), genericArgs(nonNil(args))},
		Attachments: att,
	}
}

// nonNil is s, or an empty slice for nil (hessian2 writes a nil slice as null, and $invoke's
// arrays must be arrays).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// genericArgs is the Object[] argument of $invoke (see encodeArg).
type genericArgs []any

// Client calls Dubbo providers. It is safe for concurrent use; create one and share it.
type Client struct {
	opts Options
	ids  atomic.Int64

	mu        sync.Mutex
	endpoints map[string]*Endpoint
	closed    bool
}

// New returns a Client; it dials nothing until the first call.
func New(opts Options) *Client {
	return &Client{opts: opts.withDefaults(), endpoints: map[string]*Endpoint{}}
}

// Endpoint returns the connection pool of the provider at addr ("host:port"), creating it on
// first use. After Close it returns an endpoint whose calls fail with ErrClosed.
func (c *Client) Endpoint(addr string) *Endpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.endpoints[addr]; ok {
		return e
	}
	e := newEndpoint(addr, &c.opts, &c.ids)
	if c.closed {
		e.close()
		return e
	}
	c.endpoints[addr] = e
	return e
}

// Invoke calls req on the provider at addr. See Endpoint.Invoke.
func (c *Client) Invoke(ctx context.Context, addr string, req Request) (Response, error) {
	return c.Endpoint(addr).Invoke(ctx, req)
}

// CloseEndpoint closes the connections to addr (a provider that left the registry); calls in
// flight fail. A later Endpoint(addr) starts afresh.
func (c *Client) CloseEndpoint(addr string) {
	c.mu.Lock()
	e := c.endpoints[addr]
	delete(c.endpoints, addr)
	c.mu.Unlock()
	if e != nil {
		e.close()
	}
}

// Close closes every connection. Calls in flight fail; later calls fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	eps := c.endpoints
	c.endpoints = map[string]*Endpoint{}
	c.closed = true
	c.mu.Unlock()
	for _, e := range eps {
		e.close()
	}
	return nil
}

// String describes the client for logs.
func (c *Client) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("dubborpc.Client(%d endpoints)", len(c.endpoints))
}
