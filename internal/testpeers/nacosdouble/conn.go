package nacosdouble

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	nacosgrpc "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"github.com/nacos-group/nacos-sdk-go/v2/common/remote/rpc/rpc_request"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"google.golang.org/protobuf/types/known/anypb"
)

// Push delivery: how long to wait for a client's ack, and how often to try.
const (
	pushAckTimeout = 5 * time.Second
	pushAttempts   = 3
)

// conn is one client connection: created by ServerCheckRequest, registered by the
// ConnectionSetupRequest on its stream.
type conn struct {
	id   string
	addr string

	mu         sync.Mutex // guards the fields below and serializes stream sends
	stream     nacosgrpc.BiRequestStream_RequestBiStreamServer
	registered bool
	closed     bool
	subs       map[serviceKey]bool
	listens    map[configKey]bool
	acks       map[string]chan struct{}
	nextReq    int
}

// connFor returns the connection of a client address, creating it. Caller holds st.mu.
func (st *state) connFor(addr string) *conn {
	c := st.conns[addr]
	if c == nil {
		st.nextConn++
		c = &conn{
			id:   fmt.Sprintf("%d_%s", time.Now().UnixMilli(), addr) + "_" + strconv.Itoa(st.nextConn),
			addr: addr, subs: map[serviceKey]bool{}, listens: map[configKey]bool{}, acks: map[string]chan struct{}{},
		}
		st.conns[addr] = c
	}
	return c
}

// lookup returns the registered connection of a client address, or nil.
func (st *state) lookup(addr string) *conn {
	st.mu.Lock()
	defer st.mu.Unlock()
	c := st.conns[addr]
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.registered || c.closed {
		return nil
	}
	return c
}

// subscribersOf returns the connections subscribed to key. Caller holds st.mu.
func (st *state) subscribersOf(key serviceKey) []*conn {
	var out []*conn
	for _, addr := range slices.Sorted(maps.Keys(st.conns)) {
		c := st.conns[addr]
		c.mu.Lock()
		if c.subs[key] && !c.closed {
			out = append(out, c)
		}
		c.mu.Unlock()
	}
	return out
}

// subscribe adds or removes a subscription and returns the service as it is now.
func (st *state) subscribe(c *conn, key serviceKey, on bool) model.Service {
	st.mu.Lock()
	defer st.mu.Unlock()
	c.mu.Lock()
	if on {
		c.subs[key] = true
	} else {
		delete(c.subs, key)
	}
	c.mu.Unlock()
	return st.serviceInfo(key, false)
}

// closeConn forgets a connection and removes the instances it registered, pushing the change.
func (st *state) closeConn(c *conn) {
	st.mu.Lock()
	if st.conns[c.addr] == c {
		delete(st.conns, c.addr)
	}
	c.mu.Lock()
	c.closed = true
	for _, ch := range c.acks {
		close(ch)
	}
	c.acks = map[string]chan struct{}{}
	c.mu.Unlock()
	var owned []serviceKey
	for key, svc := range st.services {
		for _, oi := range svc.instances {
			if oi.owner == c.id {
				owned = append(owned, key)
				break
			}
		}
	}
	st.mu.Unlock()
	for _, key := range owned {
		st.change(key, false, func(insts map[string]ownedInstance) bool {
			n := len(insts)
			maps.DeleteFunc(insts, func(_ string, oi ownedInstance) bool { return oi.owner == c.id })
			return len(insts) != n
		})
	}
}

// dropAllConnections forgets every connection (the double stopped). All are marked closed
// before their instances are removed, so that nothing is pushed to a connection that is gone.
func (st *state) dropAllConnections() {
	st.mu.Lock()
	conns := slices.Collect(maps.Values(st.conns))
	st.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
	}
	for _, c := range conns {
		st.closeConn(c)
	}
}

// push sends a NotifySubscriberRequest to each subscriber and waits for its ack, retrying a
// few times as Nacos does. A subscriber that never acks is reported through t.Logf: its
// connection is usually gone.
func (st *state) push(subscribers []*conn, key serviceKey, info model.Service) {
	var wg sync.WaitGroup
	for _, c := range subscribers {
		wg.Go(func() {
			var err error
			for range pushAttempts {
				if err = c.pushOnce(key, info); err == nil {
					return
				}
			}
			st.t.Logf("nacosdouble: push of %s/%s@@%s to %s failed: %v", key.namespace, key.group, key.name, c.id, err)
		})
	}
	wg.Wait()
}

var errConnClosed = errors.New("connection closed")

func (c *conn) pushOnce(key serviceKey, info model.Service) error {
	return c.serverRequest(func(id string) (string, any) {
		req := rpc_request.NotifySubscriberRequest{
			NamingRequest: &rpc_request.NamingRequest{
				Request:   &rpc_request.Request{RequestId: id},
				Namespace: key.namespace, ServiceName: key.name, GroupName: key.group, Module: "naming",
			},
			ServiceInfo: info,
		}
		return req.GetRequestType(), req
	})
}

// pushConfigChange tells a listening connection that a configuration changed
// (RpcConfigChangeNotifier), retrying a few times; the client then asks for it again.
func (st *state) pushConfigChange(c *conn, key configKey) {
	var err error
	for range pushAttempts {
		err = c.serverRequest(func(id string) (string, any) {
			req := rpc_request.NewConfigChangeNotifyRequest(key.group, key.dataID, key.tenant)
			req.RequestId = id
			return req.GetRequestType(), req
		})
		if err == nil || errors.Is(err, errConnClosed) {
			return
		}
	}
	st.t.Logf("nacosdouble: config change push of %s/%s to %s failed: %v", key.group, key.dataID, c.id, err)
}

// serverRequest sends the request that build makes (given its request ID) on the connection's
// stream and waits for the client's response.
func (c *conn) serverRequest(build func(id string) (typ string, body any)) error {
	c.mu.Lock()
	if c.closed || c.stream == nil {
		c.mu.Unlock()
		return errConnClosed
	}
	c.nextReq++
	id := strconv.Itoa(c.nextReq)
	ack := make(chan struct{})
	c.acks[id] = ack
	typ, body := build(id)
	err := c.sendLocked(typ, body)
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	timer := time.NewTimer(pushAckTimeout)
	defer timer.Stop()
	select {
	case <-ack:
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return errConnClosed
		}
		return nil
	case <-timer.C:
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
		return fmt.Errorf("no response to request %s within %s", id, pushAckTimeout)
	}
}

// acked records a client's response to a server request.
func (c *conn) acked(requestID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.acks[requestID]; ok {
		delete(c.acks, requestID)
		close(ch)
	}
}

// sendLocked writes one payload on the stream. Caller holds c.mu.
func (c *conn) sendLocked(typ string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode %s: %w", typ, err)
	}
	return c.stream.Send(&nacosgrpc.Payload{
		Metadata: &nacosgrpc.Metadata{Type: typ, ClientIp: "127.0.0.1"},
		Body:     &anypb.Any{Value: b},
	})
}
