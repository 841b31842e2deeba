package dubborpc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
)

// slowCall starts a call that the provider answers after a few seconds and waits until it is
// in flight on ep's shared connection; the returned channel gets its outcome.
func slowCall(t *testing.T, ctx context.Context, ep *Endpoint) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := ep.Invoke(ctx, Request{Interface: greeter, Version: dubboprovider.Version, Method: "slow",
			ParamTypes: []string{"int"}, Args: []any{int32(3000)}})
		done <- err
	}()
	deadline := time.Now().Add(giveUp)
	for ep.InFlight() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the slow call never went out")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return done
}

// TestProviderClosesConnectionOnOversizedRequest is the fault the gateway's limits exist for,
// on the real dubbo-go provider: a request packet over the provider's limit makes it close
// the connection, and a call that was in flight on the same connection fails with it although
// nothing was wrong with it. With the provider's payload limit on the request, the oversized
// call is refused before it is sent and the other call is untouched.
func TestProviderClosesConnectionOnOversizedRequest(t *testing.T) {
	p := dubboprovider.Start(t, dubboprovider.Options{Registry: "none", Payload: 4096})
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()
	oversized := sayHello(strings.Repeat("x", 5000))

	t.Run("sent anyway", func(t *testing.T) {
		ep := newClient(t, Options{IsolateAbove: -1}).Endpoint(p.Addr())
		slow := slowCall(t, ctx, ep)
		if _, err := ep.Invoke(ctx, oversized); !errors.Is(err, ErrConnectionLost) {
			t.Errorf("oversized call: %v, want the connection lost", err)
		}
		if err := <-slow; !errors.Is(err, ErrConnectionLost) {
			t.Errorf("the call in flight beside it: %v; the provider was expected to close the shared connection", err)
		}
	})
	t.Run("refused by the limit", func(t *testing.T) {
		ep := newClient(t, Options{IsolateAbove: -1}).Endpoint(p.Addr())
		slow := slowCall(t, ctx, ep)
		limited := oversized
		limited.PayloadLimit = 4096
		if _, err := ep.Invoke(ctx, limited); !errors.Is(err, ErrPayloadTooLarge) {
			t.Errorf("oversized call: %v, want ErrPayloadTooLarge", err)
		}
		if err := <-slow; err != nil {
			t.Errorf("the call in flight beside it failed: %v", err)
		}
		fits := sayHello(strings.Repeat("x", 3800))
		fits.PayloadLimit = 4096
		if resp, err := ep.Invoke(ctx, fits); err != nil || resp.Value != "Hello, "+strings.Repeat("x", 3800) {
			t.Errorf("a call within the limit: %v", err)
		}
	})
}

// TestLargeCallsGoOnTheirOwnConnection: a provider that enforces a limit it does not publish
// (the default of dubbo-go's getty, lowered here) closes the connection of a call over it;
// since a call over Options.IsolateAbove has a connection of its own, a call in flight on the
// shared connection is untouched. With isolation off the same sequence fails it.
func TestLargeCallsGoOnTheirOwnConnection(t *testing.T) {
	p := dubboprovider.Start(t, dubboprovider.Options{Registry: "none", MaxMessageLength: 4096})
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()
	for _, c := range []struct {
		name        string
		isolate     int
		slowSurvive bool
	}{{"isolated", 2048, true}, {"shared", -1, false}} {
		t.Run(c.name, func(t *testing.T) {
			ep := newClient(t, Options{IsolateAbove: c.isolate, MaxIsolated: 1}).Endpoint(p.Addr())
			slow := slowCall(t, ctx, ep)
			_, err := ep.Invoke(ctx, sayHello(strings.Repeat("x", 5000)))
			if !errors.Is(err, ErrConnectionLost) || errors.Is(err, ErrOwnConnectionLost) != c.slowSurvive {
				t.Errorf("call over the unpublished limit: %v, want the connection lost (its own: %v)", err, c.slowSurvive)
			}
			err = <-slow
			if survived := err == nil; survived != c.slowSurvive {
				t.Errorf("the call on the shared connection: %v (want it to survive: %v)", err, c.slowSurvive)
			}
			if !c.slowSurvive {
				return
			}
			// Isolated calls that fit are answered, one after another through MaxIsolated = 1.
			for range 3 {
				name := strings.Repeat("y", 3000)
				if resp, err := ep.Invoke(ctx, sayHello(name)); err != nil || resp.Value != "Hello, "+name {
					t.Fatalf("an isolated call that fits: %v", err)
				}
			}
			if n := ep.InFlight(); n != 0 {
				t.Errorf("%d calls still in flight", n)
			}
		})
	}
}

// TestOversizedResponseFailsOnlyItsCall: a response over Options.MaxBodySize fails its own
// call; the connection stays, and a call in flight on it is answered.
func TestOversizedResponseFailsOnlyItsCall(t *testing.T) {
	p := dubboprovider.Start(t, dubboprovider.Options{Registry: "none"})
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()
	ep := newClient(t, Options{MaxBodySize: 2000}).Endpoint(p.Addr())
	slow := slowCall(t, ctx, ep)
	// sayHello(name, times) repeats the greeting: two copies are over 2000 bytes.
	big := Request{Interface: greeter, Version: dubboprovider.Version, Method: "sayHello",
		ParamTypes: []string{"java.lang.String", "int"}, Args: []any{strings.Repeat("z", 1500), int32(2)}}
	var tooLarge *oversizedError
	if _, err := ep.Invoke(ctx, big); !errors.As(err, &tooLarge) {
		t.Errorf("call with an oversized response: %v", err)
	}
	if err := <-slow; err != nil {
		t.Errorf("the call in flight beside it: %v", err)
	}
	if resp, err := ep.Invoke(ctx, sayHello("again")); err != nil || resp.Value != "Hello, again" {
		t.Errorf("a call after it: %v %v", resp.Value, err)
	}
}
