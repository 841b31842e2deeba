package dataplane_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dataplane"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/transcoding"
)

// Clusters of the providers that enforce a request limit: limited publishes it (as the provider
// URL's payload parameter, which transcoding turns into the routes' PayloadLimit), strict does
// not (a dubbo-go provider with a lowered getty max-msg-len).
const (
	limitedCluster = greeterCluster + "limited"
	strictCluster  = greeterCluster + "strict"
	// limitedPayload is what the limited provider accepts; strictPacket what the strict one does.
	limitedPayload = 64 << 10
	strictPacket   = 300 << 10
)

// providerRoute is a REST route to a method of the test provider on cluster.
func providerRoute(name, httpMethod, template, cluster, javaMethod, returns string, payload int, params ...ir.DubboParam) ir.Route {
	return ir.Route{
		Name: name, Match: ir.Match{PathTemplate: template, Methods: []string{httpMethod}}, Cluster: cluster, Timeout: 10 * time.Second,
		Dubbo: &ir.DubboRoute{Interface: dubboprovider.Interface, Version: dubboprovider.Version,
			Method: javaMethod, Params: params, Returns: returns, PayloadLimit: payload},
	}
}

// inputStack is the Dubbo stack plus the limited and strict providers and their routes, and a
// query-parameter route on the shared providers.
func inputStack(t *testing.T) *dubboStack {
	limited := dubboprovider.Start(t, dubboprovider.Options{Registry: "none", Payload: limitedPayload})
	strict := dubboprovider.Start(t, dubboprovider.Options{Registry: "none", MaxMessageLength: strictPacket})
	user := ir.DubboParam{Name: "user", Type: "org.rpcbridge.test.User", From: ir.FromWholeBody}
	name := ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"}
	return startDubboStack(t, func(g *ir.Gateway) {
		for _, c := range []struct {
			name string
			p    *dubboprovider.Provider
		}{{limitedCluster, limited}, {strictCluster, strict}} {
			g.Clusters = append(g.Clusters, ir.Cluster{Name: c.name, Protocol: ir.UpstreamDubbo, ConnectTimeout: time.Second,
				Endpoints: []ir.Endpoint{{Address: "127.0.0.1", Port: uint32(c.p.Port()), Weight: 100, Healthy: true}}})
		}
		slices.SortFunc(g.Clusters, func(a, b ir.Cluster) int { return strings.Compare(a.Name, b.Name) })
		withPolicy(g, transcoding.DefaultRPCPolicy()) // the clusters added here too, as transcoding gives them
		g.Routes = append(g.Routes,
			providerRoute("greetQuery", "GET", "/greet", greeterCluster, "sayHello", "java.lang.String", 0,
				ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromQuery, Key: "name"}),
			providerRoute("limitedUsers", "POST", "/limited/users", limitedCluster, "echoUser", "org.rpcbridge.test.User", limitedPayload, user),
			providerRoute("limitedSamples", "POST", "/limited/samples", limitedCluster, "echoSample", "org.rpcbridge.test.Sample", limitedPayload,
				ir.DubboParam{Name: "sample", Type: "org.rpcbridge.test.Sample", From: ir.FromWholeBody}),
			providerRoute("limitedHello", "GET", "/limited/hello/{name}", limitedCluster, "sayHello", "java.lang.String", limitedPayload, name),
			providerRoute("strictUsers", "POST", "/strict/users", strictCluster, "echoUser", "org.rpcbridge.test.User", 0, user),
			providerRoute("strictHello", "GET", "/strict/hello/{name}", strictCluster, "sayHello", "java.lang.String", 0, name),
			providerRoute("strictSlow", "GET", "/strict/slow", strictCluster, "slow", "java.lang.String", 0,
				ir.DubboParam{Name: "millis", Type: "int", From: ir.FromQuery, Key: "ms"}))
	})
}

// load sends well-formed calls through the gateway from a few clients until stopped and counts
// their outcomes by status.
type callLoad struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	seen map[int]int
	bad  []string
}

func startCallLoad(s *dubboStack, paths ...string) *callLoad {
	l := &callLoad{stop: make(chan struct{}), seen: map[int]int{}}
	client := &http.Client{Timeout: 15 * time.Second}
	for i := range 4 * len(paths) {
		path := paths[i%len(paths)]
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for n := 0; ; n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				status, body := get(client, fmt.Sprintf("http://%s%s%d-%d", s.gw.Addr(), path, i, n))
				l.mu.Lock()
				l.seen[status]++
				if status != http.StatusOK && len(l.bad) < 5 {
					l.bad = append(l.bad, fmt.Sprintf("%s: %d %s", path, status, body))
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// get sends a GET and returns the status and body, or 0 and the error.
func get(client *http.Client, url string) (int, string) {
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// calls is the number of calls answered so far.
func (l *callLoad) calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	total := 0
	for _, n := range l.seen {
		total += n
	}
	return total
}

// await waits until n more calls have been answered, so that the refused requests are sent
// while well-formed calls run and these go on after them.
func (l *callLoad) await(t *testing.T, n int) {
	t.Helper()
	want, deadline := l.calls()+n, time.Now().Add(giveUp)
	for l.calls() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the load answered %d calls, want %d", l.calls(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// finish stops the load and fails the test unless every call succeeded; at least one must have
// run.
func (l *callLoad) finish(t *testing.T) {
	t.Helper()
	l.await(t, 100)
	close(l.stop)
	l.wg.Wait()
	total := 0
	for _, n := range l.seen {
		total += n
	}
	if total == 0 || l.seen[http.StatusOK] != total {
		t.Errorf("well-formed calls beside the refused ones: %v of %d; first failures: %s", l.seen, total, strings.Join(l.bad, "; "))
	}
}

// errorOf decodes a gateway error body.
func errorOf(t *testing.T, body string) dataplane.ErrorDetail {
	t.Helper()
	var e dataplane.ErrorBody
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("not a gateway error body: %s", body)
	}
	return e.Error
}

// TestOneClientCannotFailOthers is issue 11 item 4 against real dubbo-go providers: requests
// that no provider could take, sent while other clients' well-formed calls run on the same
// connections, are answered alone (400 for a value the provider cannot decode, 413 for a body
// over the provider's payload limit), and every other call succeeds. Before the fix each of
// them reached the provider, which closed the shared connection (502 for it and for calls in
// flight beside it).
func TestOneClientCannotFailOthers(t *testing.T) {
	s := inputStack(t)

	t.Run("BigDecimal no provider decodes", func(t *testing.T) {
		l := startCallLoad(s, "/hello/n")
		l.await(t, 100)
		body := `{"name":"malory","level":"GOLD","balance":1e999999999}` // the 54 bytes
		for range 6 {
			status, resp := s.call(t, "POST", "/users", body)
			if e := errorOf(t, resp); status != 400 || e.Code != 400 || e.Status != dataplane.StatusInvalidRequest ||
				!strings.Contains(e.Message, `argument user (org.rpcbridge.test.User, from the request body).balance: "1e999999999" has scale -999999999`) {
				t.Errorf("POST /users %s: %d %s, want 400 naming the balance's scale", body, status, resp)
			}
		}
		l.finish(t)
		// The largest value within the limits goes through, as BigDecimal.toString writes it.
		if status, resp := s.call(t, "POST", "/users", `{"name":"ok","balance":"9999999999999999999999999999999999999999E+40"}`); status != 200 ||
			!strings.Contains(resp, `"balance":"9.999999999999999999999999999999999999999E+79"`) {
			t.Errorf("the largest BigDecimal within the limits: %d %s", status, resp)
		}
	})

	t.Run("body over the provider's payload limit", func(t *testing.T) {
		l := startCallLoad(s, "/limited/hello/n")
		l.await(t, 100)
		tooLong := `{"name":"` + strings.Repeat("x", limitedPayload) + `"}`
		// Under the limit as JSON, over it as hessian2: a DTO per "{}" (every field written).
		expanding := `{"places":[{}` + strings.Repeat(`,{}`, 20000) + `]}`
		if len(expanding) >= limitedPayload {
			t.Fatalf("the expanding body is %d bytes, not under the limit", len(expanding))
		}
		for range 3 {
			status, resp := s.call(t, "POST", "/limited/users", tooLong)
			if e := errorOf(t, resp); status != 413 || e.Status != dataplane.StatusInvalidRequest ||
				!strings.Contains(e.Message, fmt.Sprintf("request body is larger than %d bytes", limitedPayload)) {
				t.Errorf("POST /limited/users of %d bytes: %d %.300s, want 413", len(tooLong), status, resp)
			}
			status, resp = s.call(t, "POST", "/limited/samples", expanding)
			if e := errorOf(t, resp); status != 413 || e.Status != dataplane.StatusInvalidRequest ||
				!strings.Contains(e.Message, fmt.Sprintf("the provider accepts %d", limitedPayload)) {
				t.Errorf("POST /limited/samples (%d bytes of JSON, more as hessian2): %d %.300s, want 413", len(expanding), status, resp)
			}
		}
		l.finish(t)
		fits := strings.Repeat("y", limitedPayload/2)
		if status, resp := s.call(t, "POST", "/limited/users", `{"name":"`+fits+`"}`); status != 200 || !strings.Contains(resp, fits) {
			t.Errorf("a body within the limit: %d %.200s", status, resp)
		}
	})

	t.Run("large call to a provider with an unpublished limit", func(t *testing.T) {
		// The strict provider closes any connection that brings a packet over 300 KiB, and
		// says so nowhere: the gateway cannot refuse the call, but it sends it on a connection
		// of its own, so that only this call fails.
		l := startCallLoad(s, "/strict/hello/n")
		l.await(t, 100)
		slow := make(chan string, 1)
		go func() {
			status, resp := get(http.DefaultClient, "http://"+s.gw.Addr().String()+"/strict/slow?ms=3000")
			slow <- fmt.Sprintf("%d %s", status, resp)
		}()
		time.Sleep(300 * time.Millisecond) // not an assertion: gives the slow call time to be in flight
		big := `{"name":"` + strings.Repeat("z", strictPacket+(50<<10)) + `"}`
		if status, resp := s.call(t, "POST", "/strict/users", big); status < 500 {
			t.Errorf("POST /strict/users over the provider's unpublished limit: %d %.200s, want a 5xx", status, resp)
		}
		if got := <-slow; got != "200 \"slept 3000ms\"\n" {
			t.Errorf("the call in flight on the shared connection: %s", got)
		}
		l.finish(t)
	})

	t.Run("oversized calls do not count against the provider", func(t *testing.T) {
		// Ten large calls in a row lose their own connections: outlier detection must not take
		// that for a failing provider (it would eject it, or try to, after five), or one
		// client's oversized requests could take a healthy provider out of service.
		big := `{"name":"` + strings.Repeat("w", strictPacket+(50<<10)) + `"}`
		for range 10 {
			if status, resp := s.call(t, "POST", "/strict/users", big); status < 500 {
				t.Fatalf("POST /strict/users over the provider's unpublished limit: %d %.200s, want a 5xx", status, resp)
			}
		}
		labels := map[string]string{"cluster": strictCluster}
		tried := metric(t, s.reg, "rpcbridge_gateway_outlier_ejections_overflow_total", labels)
		for _, typ := range []string{"consecutive_5xx", "consecutive_gateway_failure", "consecutive_local_origin_failure"} {
			tried += metric(t, s.reg, "rpcbridge_gateway_outlier_ejections_total", map[string]string{"cluster": strictCluster, "type": typ})
		}
		if tried != 0 {
			t.Errorf("outlier detection ejected (or tried to eject) the provider %v times for calls that lost their own connections", tried)
		}
		if status, resp := s.call(t, "GET", "/strict/hello/after", ""); status != 200 {
			t.Errorf("a normal call after the oversized ones: %d %s", status, resp)
		}
	})
}

// TestInvalidUTF8OnDubboRoutes is issue 11 item 10: text that is not Unicode is a 400 on a
// Dubbo route, with the same error body as the gRPC path, instead of reaching the provider as
// U+FFFD.
func TestInvalidUTF8OnDubboRoutes(t *testing.T) {
	s := startDubboStack(t, func(g *ir.Gateway) {
		g.Routes = append(g.Routes, providerRoute("greetQuery", "GET", "/greet", greeterCluster, "sayHello", "java.lang.String", 0,
			ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromQuery, Key: "name"}))
	})
	cases := []struct {
		name, method, path, body, want string
	}{
		{"body", "POST", "/users", "{\"name\":\"Ad\xffa\"}", "body: invalid UTF-8 at byte 11"},
		{"body, lone surrogate", "POST", "/users", `{"name":"\ud800"}`, `body: unpaired UTF-16 surrogate \ud800 at byte 9`},
		{"query", "GET", "/greet?name=Ad%FFa", "", `argument name (java.lang.String, from query "name"): "Ad\xffa" is not valid UTF-8 (byte 2)`},
		{"path", "GET", "/hello/Ad%C3", "", `argument name (java.lang.String, from path "name"): "Ad\xc3" is not valid UTF-8 (byte 2)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, resp := s.call(t, c.method, c.path, c.body)
			if e := errorOf(t, resp); status != 400 || e.Code != 400 || e.Status != dataplane.StatusInvalidRequest || e.Message != c.want {
				t.Errorf("%s %s: %d %s, want 400 %s %q", c.method, c.path, status, resp, dataplane.StatusInvalidRequest, c.want)
			}
		})
	}
	if status, resp := s.call(t, "GET", "/greet?name=J%C3%BCrgen%20%F0%9F%98%80", ""); status != 200 || resp != "\"Hello, Jürgen 😀\"\n" {
		t.Errorf("valid UTF-8 in the query: %d %s", status, resp)
	}
}
