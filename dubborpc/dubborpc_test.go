package dubborpc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// giveUp bounds every wait; tests never assert on durations.
const giveUp = 20 * time.Second

const greeter = dubboprovider.Interface

// startProvider runs ZooKeeper and the real dubbo-go provider.
func startProvider(t testing.TB) *dubboprovider.Provider {
	t.Helper()
	zk := zkpeer.Start(t)
	return dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), Registry: "interface"})
}

func newClient(t testing.TB, opts Options) *Client {
	t.Helper()
	c := New(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func sayHello(name string) Request {
	return Request{Interface: greeter, Version: dubboprovider.Version, Method: "sayHello",
		ParamTypes: []string{"java.lang.String"}, Args: []any{name}}
}

func TestAgainstDubboGo(t *testing.T) {
	p := startProvider(t)
	c := newClient(t, Options{})
	ep := c.Endpoint(p.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()

	t.Run("string", func(t *testing.T) {
		resp, err := ep.Invoke(ctx, Request{Interface: greeter, Version: "1.0.0", Method: "sayHello",
			ParamTypes: []string{"java.lang.String"}, Args: []any{"world"},
			Attachments: map[string]string{"trace-id": "t-1"}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Value != "Hello, world" {
			t.Errorf("value = %#v", resp.Value)
		}
		if resp.Attachments["trace-id"] != "t-1" {
			t.Errorf("response attachments = %v, want the echoed trace-id", resp.Attachments)
		}
	})
	t.Run("overload", func(t *testing.T) {
		resp, err := ep.Invoke(ctx, Request{Interface: greeter, Version: "1.0.0", Method: "sayHello",
			ParamTypes: []string{"java.lang.String", "int"}, Args: []any{"bob", int32(3)}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Value != "Hello, bob Hello, bob Hello, bob" {
			t.Errorf("value = %#v", resp.Value)
		}
	})
	t.Run("generic POJO", func(t *testing.T) {
		user := map[string]any{
			"class": "org.rpcbridge.test.User", "id": int64(42), "name": "Ada",
			"tags":    []any{"a", "b"},
			"scores":  map[string]any{"math": int32(90)},
			"address": map[string]any{"class": "org.rpcbridge.test.Address", "city": "Paris", "zip": "75001"},
		}
		resp, err := ep.GenericInvoke(ctx, greeter, "1.0.0", "", "echoUser",
			[]string{"org.rpcbridge.test.User"}, []any{user}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(resp.Value)
		for _, want := range []string{"id:42", "name:Ada", "city:Paris", "math:90", "tags:[a b]"} {
			if !strings.Contains(got, want) {
				t.Errorf("echoUser result %s lacks %s", got, want)
			}
		}
	})
	t.Run("generic overloads", func(t *testing.T) {
		for _, c := range []struct {
			types []string
			args  []any
			want  string
		}{
			{[]string{"java.lang.String"}, []any{"bob"}, "Hello, bob"},
			{[]string{"java.lang.String", "int"}, []any{"bob", int32(2)}, "Hello, bob Hello, bob"},
		} {
			resp, err := ep.GenericInvoke(ctx, greeter, "1.0.0", "", "sayHello", c.types, c.args, nil)
			if err != nil || resp.Value != c.want {
				t.Errorf("$invoke sayHello%v = %#v, %v; want %q", c.types, resp.Value, err, c.want)
			}
		}
	})
	t.Run("generic raw arguments", func(t *testing.T) {
		// RawArgs go inside $invoke's Object[] as they are: here a string and an int written by
		// hessian2 beforehand.
		enc := hessian.NewEncoder()
		_ = enc.Encode("raw")
		name := RawArg(slices.Clone(enc.Buffer()))
		resp, err := ep.GenericInvoke(ctx, greeter, "1.0.0", "", "sayHello",
			[]string{"java.lang.String", "int"}, []any{name, RawArg{0x93}}, nil) // 0x93: the int 3
		if err != nil || resp.Value != "Hello, raw Hello, raw Hello, raw" {
			t.Errorf("$invoke with raw arguments = %#v, %v", resp.Value, err)
		}
	})
	t.Run("generic string", func(t *testing.T) {
		resp, err := ep.GenericInvoke(ctx, greeter, "1.0.0", "", "slow", []string{"int"}, []any{int32(1)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Value != "slept 1ms" {
			t.Errorf("value = %#v", resp.Value)
		}
	})
	t.Run("exception", func(t *testing.T) {
		_, err := ep.Invoke(ctx, Request{Interface: greeter, Version: "1.0.0", Method: "fail",
			ParamTypes: []string{"java.lang.String"}, Args: []any{"boom"}})
		var remote *RemoteError
		if !errors.As(err, &remote) {
			t.Fatalf("err = %v (%T), want a *RemoteError", err, err)
		}
		if remote.Class != "org.rpcbridge.test.GreeterException" || remote.Message != "boom" {
			t.Errorf("remote error = %+v", remote)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		_, err := ep.Invoke(ctx, Request{Interface: greeter, Version: "1.0.0", Method: "nope"})
		var remote *RemoteError
		var status *StatusError
		if !errors.As(err, &remote) && !errors.As(err, &status) {
			t.Fatalf("err = %v (%T), want a remote or status error", err, err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := ep.Invoke(short, Request{Interface: greeter, Version: "1.0.0", Method: "slow",
			ParamTypes: []string{"int"}, Args: []any{int32(1500)}})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a deadline error", err)
		}
		// The connection survives the abandoned call, and its late response is dropped.
		resp, err := ep.Invoke(ctx, Request{Interface: greeter, Version: "1.0.0", Method: "slow",
			ParamTypes: []string{"int"}, Args: []any{int32(1600)}})
		if err != nil || resp.Value != "slept 1600ms" {
			t.Fatalf("call after a timeout = %#v, %v", resp.Value, err)
		}
	})
	t.Run("multiplexed", func(t *testing.T) {
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				name := fmt.Sprintf("caller-%d", i)
				resp, err := ep.Invoke(ctx, sayHello(name))
				if err == nil && resp.Value != "Hello, "+name {
					err = fmt.Errorf("caller %d got %#v", i, resp.Value)
				}
				if err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
	t.Run("in flight at once", func(t *testing.T) {
		single := newClient(t, Options{ConnectionsPerEndpoint: 1}).Endpoint(p.Addr())
		const n = 10
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, _ = single.Invoke(ctx, Request{Interface: greeter, Version: "1.0.0", Method: "slow",
					ParamTypes: []string{"int"}, Args: []any{int32(3000)}})
			})
		}
		deadline := time.Now().Add(giveUp)
		for single.InFlight() < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if got := single.InFlight(); got < n {
			t.Errorf("in flight on one connection = %d, want %d", got, n)
		}
		wg.Wait()
	})
}

func TestReconnectAfterProviderRestart(t *testing.T) {
	p := startProvider(t)
	c := newClient(t, Options{ReconnectBackoff: 50 * time.Millisecond, MaxReconnectBackoff: 300 * time.Millisecond})
	ep := c.Endpoint(p.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 3*giveUp)
	defer cancel()
	if _, err := ep.Invoke(ctx, sayHello("before")); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	_, err := ep.Invoke(ctx, sayHello("while down"))
	if !errors.Is(err, ErrConnectionLost) && !errors.Is(err, ErrUnavailable) {
		t.Fatalf("call to a killed provider: %v, want ErrConnectionLost or ErrUnavailable", err)
	}
	p.Restart()
	waitForAnswer(t, ctx, ep, "the restart")
}

// waitForAnswer calls sayHello on ep until it is answered, failing on errors other than lost or
// unavailable connections and after giveUp; after names the event waited out.
func waitForAnswer(t *testing.T, ctx context.Context, ep *Endpoint, after string) {
	t.Helper()
	deadline := time.Now().Add(giveUp)
	for {
		resp, err := ep.Invoke(ctx, sayHello("after"))
		if err == nil {
			if resp.Value != "Hello, after" {
				t.Fatalf("value = %#v", resp.Value)
			}
			return
		}
		// A restarted dubbo-go provider accepts connections before it has exported its services,
		// and Restart's wait for its ZooKeeper registration can be satisfied by the killed
		// process's ephemeral node (alive until its session expires): until the export, calls
		// are answered "don't have this exporter".
		var remote *RemoteError
		notExported := errors.As(err, &remote) && strings.Contains(remote.Message, "don't have this exporter")
		if !errors.Is(err, ErrConnectionLost) && !errors.Is(err, ErrUnavailable) && !notExported {
			t.Fatalf("unexpected error while reconnecting: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no successful call within %v of %s: %v", giveUp, after, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func BenchmarkInvoke(b *testing.B) {
	p := startProvider(b)
	ep := newClient(b, Options{ConnectionsPerEndpoint: 2}).Endpoint(p.Addr())
	ctx := context.Background()
	if _, err := ep.Invoke(ctx, sayHello("warm-up")); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ep.Invoke(ctx, sayHello("bench")); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}
