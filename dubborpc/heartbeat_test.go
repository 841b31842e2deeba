package dubborpc

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestFrozenProviderIsDetected runs the real dubbo-go provider and freezes it (SIGSTOP), as a
// stalled host: the kernel keeps its connections open and accepts new ones. A call in flight on
// the existing connection must fail with ErrConnectionLost once the heartbeats go unanswered
// (long before the call's own 30 s deadline), and a new connection to the frozen process must not
// be used: its handshake heartbeat goes unanswered, so calls fail as unavailable and not sent.
// After the thaw the endpoint works again.
func TestFrozenProviderIsDetected(t *testing.T) {
	p := startProvider(t)
	c := newClient(t, Options{HeartbeatInterval: 100 * time.Millisecond, HeartbeatTimeout: 500 * time.Millisecond,
		DialTimeout: 500 * time.Millisecond, ReconnectBackoff: 50 * time.Millisecond, MaxReconnectBackoff: 200 * time.Millisecond})
	ep := c.Endpoint(p.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 3*giveUp)
	defer cancel()
	if _, err := ep.Invoke(ctx, sayHello("before")); err != nil {
		t.Fatal(err)
	}
	if err := p.Freeze(); err != nil {
		t.Fatal(err)
	}
	thawed := false
	defer func() {
		if !thawed {
			_ = p.Thaw()
		}
	}()

	callCtx, callCancel := context.WithTimeout(ctx, 30*time.Second)
	defer callCancel()
	_, err := ep.Invoke(callCtx, sayHello("while frozen"))
	if !errors.Is(err, ErrConnectionLost) || callCtx.Err() != nil {
		t.Fatalf("call in flight to a frozen provider: %v (deadline passed: %v), want ErrConnectionLost from the heartbeat", err, callCtx.Err())
	}
	if errors.Is(err, ErrNotSent) {
		t.Errorf("a call written to the frozen provider is reported as not sent: %v", err)
	}

	// The kernel accepts a new connection, but the provider answers no handshake heartbeat.
	for range 3 {
		_, err = ep.Invoke(ctx, sayHello("reconnect while frozen"))
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrNotSent) {
			t.Fatalf("call on a reconnect to the frozen provider: %v, want ErrUnavailable and ErrNotSent", err)
		}
		time.Sleep(250 * time.Millisecond) // past the backoff, so the next call dials again
	}

	if err := p.Thaw(); err != nil {
		t.Fatal(err)
	}
	thawed = true
	waitForAnswer(t, ctx, ep, "the thaw")
}
