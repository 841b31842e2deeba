package dataplane_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/rpcbridge/rpcbridge/controlplane"
	"github.com/rpcbridge/rpcbridge/dataplane"
)

// nameJSON is {"name":"xxx..."} of exactly n bytes: a valid Shelf and a valid User.
func nameJSON(n int) string {
	const frame = `{"name":""}`
	return `{"name":"` + strings.Repeat("x", max(n-len(frame), 0)) + `"}`
}

// TestDownstreamTimeouts runs the listener timeouts that rpcbridge's control plane emits
// (HCM common_http_protocol_options.idle_timeout, stream_idle_timeout, request_timeout,
// request_headers_timeout, http2_protocol_options) through the embedded gateway, against real
// upstreams on every path: a keep-alive connection left idle is closed; a body that stops is
// answered 408 stream_idle_timeout and one that trickles 408 request_overall_timeout, headers that
// never end 408 request_header_timeout, as Envoy answers them; HTTP/2 clients are told the
// stream limit and get GOAWAY when idle.
func TestDownstreamTimeouts(t *testing.T) {
	limits := controlplane.DefaultDownstreamLimits()
	limits.IdleTimeout = 500 * time.Millisecond
	limits.StreamIdleTimeout = 500 * time.Millisecond
	limits.RequestTimeout = 1500 * time.Millisecond
	limits.RequestHeadersTimeout = 500 * time.Millisecond
	limits.MaxConcurrentStreams = 7
	s := startLimitStack(t, limitStackOptions{limits: limits, dubbo: true})

	t.Run("idle keep-alive connection is closed", func(t *testing.T) {
		c := s.dial(t)
		c.request(t, "GET", plainPath, -1, "")
		if resp, body, err := c.response(); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("first request: %v %s %v", resp, body, err)
		}
		if _, err := c.r.ReadByte(); !closedByPeer(err) {
			t.Fatalf("the idle connection was not closed by the gateway (read ended with %v)", err)
		}
	})

	for _, path := range s.paths {
		t.Run("stalled body "+path, func(t *testing.T) {
			c := s.dial(t)
			c.request(t, "POST", path, 100, `{"na`)
			resp, body, err := c.response()
			if err != nil {
				t.Fatalf("no answer to a stalled body: %v", err)
			}
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body, `"status":"`+dataplane.StatusStreamIdleTimeout+`"`) {
				t.Fatalf("stalled body: %d %s, want 408 %s", resp.StatusCode, body, dataplane.StatusStreamIdleTimeout)
			}
			if _, err := c.r.ReadByte(); !closedByPeer(err) {
				t.Errorf("the connection of an unfinished request stays open (read ended with %v)", err)
			}
		})
		t.Run("trickled body "+path, func(t *testing.T) {
			c := s.dial(t)
			c.request(t, "POST", path, 1<<20, `{"name":"`)
			stop := make(chan struct{})
			trickled := make(chan struct{})
			go func() { // a byte well within the stream idle timeout, for ever
				defer close(trickled)
				tick := time.NewTicker(50 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := io.WriteString(c, "x"); err != nil {
							return
						}
					}
				}
			}()
			resp, body, err := c.response()
			close(stop)
			<-trickled
			if err != nil {
				t.Fatalf("no answer to a trickled body: %v", err)
			}
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body, `"status":"`+dataplane.StatusRequestTimeout+`"`) {
				t.Fatalf("trickled body: %d %s, want 408 %s", resp.StatusCode, body, dataplane.StatusRequestTimeout)
			}
		})
	}

	t.Run("headers that never end", func(t *testing.T) {
		c := s.dial(t)
		if _, err := io.WriteString(c, "GET "+plainPath+" HTTP/1.1\r\nHost: gateway\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, body, err := c.response()
		if err != nil || resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(body, `"status":"`+dataplane.StatusRequestHeaderTimeout+`"`) {
			t.Fatalf("unfinished headers: %v %s %v, want 408 %s", resp, body, err, dataplane.StatusRequestHeaderTimeout)
		}
		if rest, err := io.ReadAll(c.r); (err != nil && !closedByPeer(err)) || len(rest) > 0 {
			t.Errorf("the connection stays open after the header timeout (read %q, ended with %v)", rest, err)
		}
	})

	t.Run("h2c settings and idle GOAWAY", func(t *testing.T) {
		c := s.dial(t)
		if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
			t.Fatal(err)
		}
		fr := http2.NewFramer(c, c.r)
		if err := fr.WriteSettings(); err != nil {
			t.Fatal(err)
		}
		streams, goaway := uint32(0), false
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				if !closedByPeer(err) {
					t.Fatalf("the idle HTTP/2 connection was not closed (read ended with %v)", err)
				}
				break
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if f.IsAck() {
					continue
				}
				if v, ok := f.Value(http2.SettingMaxConcurrentStreams); ok {
					streams = v
				}
				if err := fr.WriteSettingsAck(); err != nil {
					t.Fatal(err)
				}
			case *http2.GoAwayFrame:
				goaway = true
			}
		}
		if streams != limits.MaxConcurrentStreams || !goaway {
			t.Errorf("HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS %d (want %d), GOAWAY before closing: %v", streams, limits.MaxConcurrentStreams, goaway)
		}
	})
}

// TestConnectionLimit checks the gateway's connection limit (Envoy's
// global_downstream_max_connections): beyond it a new connection is closed without an answer,
// the open ones keep being served, and a slot that frees up is used again.
func TestConnectionLimit(t *testing.T) {
	s := startLimitStack(t, limitStackOptions{limits: controlplane.DefaultDownstreamLimits(), gateway: dataplane.Options{MaxConnections: 3}})
	get := func(c *rawConn) error {
		c.request(t, "GET", plainPath, -1, "")
		resp, body, err := c.response()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return nil
	}
	var open []*rawConn
	for len(open) < 3 { // the readiness probes' connections may take a moment to be closed
		c := s.dial(t)
		if err := get(c); err != nil {
			c.Close()
			time.Sleep(20 * time.Millisecond)
			continue
		}
		open = append(open, c)
	}
	over := s.dial(t)
	over.request(t, "GET", plainPath, -1, "")
	if resp, body, err := over.response(); err == nil || !closedByPeer(err) {
		t.Fatalf("a fourth connection with a limit of 3: %v %s %v, want it closed unanswered", resp, body, err)
	}
	for i, c := range open {
		if err := get(c); err != nil {
			t.Fatalf("open connection %d is not served any more: %v", i, err)
		}
	}
	if n := metricValue(t, s.reg, "rpcbridge_gateway_downstream_connections_overflow_total"); n < 1 {
		t.Errorf("overflow counter = %v, want at least 1", n)
	}
	open[0].Close()
	eventually(t, "a new connection once one closed", func() error {
		c := s.dial(t)
		defer c.Close()
		return get(c)
	})
}

// TestBufferLimits checks the bounds on what the transcoders buffer: a body larger than the
// listener's per_connection_buffer_limit_bytes (and the transcoder's max_request_body_size) is
// answered 413 on the gRPC and Dubbo paths, with or without a declared length, while the plain
// path streams it; a body that does not fit in the gateway's buffer budget while another one
// holds it is answered 503 overload, and the budget is free again afterwards.
func TestBufferLimits(t *testing.T) {
	limits := controlplane.DefaultDownstreamLimits()
	limits.BufferLimitBytes = 4096
	s := startLimitStack(t, limitStackOptions{limits: limits, gateway: dataplane.Options{BufferBudgetBytes: 6000}, dubbo: true})
	big := nameJSON(8192)

	for _, path := range s.paths {
		t.Run("8 KiB body "+path, func(t *testing.T) {
			for _, chunked := range []bool{false, true} {
				var body io.Reader = strings.NewReader(big)
				if chunked {
					body = io.MultiReader(body) // hides the length: sent chunked
				}
				resp, err := (&http.Client{Timeout: giveUp}).Post("http://"+s.addr+path, "application/json", body)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want, wantStatus := http.StatusRequestEntityTooLarge, `"status":"`+dataplane.StatusPayloadTooLarge+`"`
				if path == plainPath {
					want, wantStatus = http.StatusOK, `{"read":8192}`
				}
				if resp.StatusCode != want || !strings.Contains(string(got), wantStatus) {
					t.Errorf("chunked %v: %d %s, want %d %s", chunked, resp.StatusCode, got, want, wantStatus)
				}
			}
		})
	}

	for _, path := range s.paths[1:] {
		t.Run("budget exhausted "+path, func(t *testing.T) {
			held := nameJSON(4000)
			c := s.dial(t)
			c.request(t, "POST", path, len(held), held[:10])
			eventually(t, "the first body reserved", func() error {
				if n := metricValue(t, s.reg, "rpcbridge_gateway_buffered_request_bytes"); n != 4000 {
					return fmt.Errorf("%v bytes reserved", n)
				}
				return nil
			})
			if code, body := s.post(t, path, nameJSON(3000)); code != http.StatusServiceUnavailable ||
				!strings.Contains(body, `"status":"`+dataplane.StatusOverloaded+`"`) {
				t.Errorf("a body beyond the budget: %d %s, want 503 %s", code, body, dataplane.StatusOverloaded)
			}
			if _, err := io.WriteString(c, held[10:]); err != nil {
				t.Fatal(err)
			}
			if resp, body, err := c.response(); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("the body within the budget: %v %s %v", resp, body, err)
			}
			if code, body := s.post(t, path, nameJSON(3000)); code != http.StatusOK {
				t.Errorf("after the first body was done: %d %s, want 200", code, body)
			}
		})
	}
}
