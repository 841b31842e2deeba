package bus

import (
	"context"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine running: RunStage and Wait must
// not leave anything behind once they return.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waits is how many waits the leak tests make on an idle topic: enough that one leaked channel
// per wait (96 bytes each) retains far more than the allowance below.
const waits = 10000

// allowance is the retained heap growth the leak tests tolerate, for the runtime's own noise.
const allowance = 128 << 10

// retained returns how many bytes of live heap f leaves behind.
func retained(f func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestIdleInputRetainsNothing runs a stage for many steps driven by one input while the other
// stays idle. Every step waits on both inputs; the idle topic used to keep one waiter channel
// per wait, dropped only by a Publish that an idle topic never makes.
func TestIdleInputRetainsNothing(t *testing.T) {
	busy := NewTopic[int](nil)
	idle := NewTopic[int](nil)
	busy.Publish(0)
	idle.Publish(0)
	steps := make(chan int)
	step := func() {
		v, _ := busy.Latest()
		steps <- v
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunStage(ctx, step, busy, idle) }()
	<-steps // the first step, once both inputs have a value

	grown := retained(func() {
		for i := 1; i <= waits; i++ {
			busy.Publish(i)
			for v := <-steps; v != i; v = <-steps {
			}
		}
	})
	if grown > allowance {
		t.Errorf("%d steps with an idle input retained %d bytes; want at most %d", waits, grown, allowance)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("RunStage returned %v; want context.Canceled", err)
	}
}

// TestAbandonedWaitsRetainNothing cancels many waits on a topic that never changes.
func TestAbandonedWaitsRetainNothing(t *testing.T) {
	idle := NewTopic[string](nil)
	idle.Publish("x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	grown := retained(func() {
		for range waits {
			if _, _, err := idle.Wait(ctx, 1); err != context.Canceled {
				t.Fatalf("Wait = %v; want context.Canceled", err)
			}
		}
	})
	runtime.KeepAlive(idle) // measured while the topic is alive, as a real input is
	if grown > allowance {
		t.Errorf("%d abandoned waits retained %d bytes; want at most %d", waits, grown, allowance)
	}
}
