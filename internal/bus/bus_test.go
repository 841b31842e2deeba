package bus

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

func TestPublishDropsEqualValues(t *testing.T) {
	topic := NewTopic(func(a, b []string) bool { return reflect.DeepEqual(a, b) })
	if !topic.Publish([]string{"a"}) {
		t.Fatal("first value was not stored")
	}
	if topic.Publish([]string{"a"}) {
		t.Fatal("an equal value was stored again")
	}
	if !topic.Publish([]string{"b"}) {
		t.Fatal("a new value was dropped")
	}
	if v, seq := topic.Latest(); seq != 2 || v[0] != "b" {
		t.Fatalf("Latest = %v, %d; want [b], 2", v, seq)
	}
}

func TestWaitWakesOnPublish(t *testing.T) {
	topic := NewTopic[int](nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { topic.Publish(7) }()
	v, seq, err := topic.Wait(ctx, 0)
	if err != nil || v != 7 || seq != 1 {
		t.Fatalf("Wait = %d, %d, %v; want 7, 1, nil", v, seq, err)
	}
}

func TestRunStageRecomputesOnAnyInput(t *testing.T) {
	a := NewTopic[int](nil)
	b := NewTopic[string](nil)
	out := NewTopic(func(x, y string) bool { return x == y })
	var calls atomic.Int32
	step := func() {
		calls.Add(1)
		av, _ := a.Latest()
		bv, _ := b.Latest()
		out.Publish(bv + string(rune('0'+av)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- RunStage(ctx, step, a, b) }()

	a.Publish(1)
	if calls.Load() != 0 {
		t.Fatal("stage ran before every input had a value")
	}
	b.Publish("x")
	v, seq, err := out.Wait(ctx, 0)
	if err != nil || v != "x1" {
		t.Fatalf("first output = %q, %v; want x1", v, err)
	}
	a.Publish(2)
	if v, _, err = out.Wait(ctx, seq); err != nil || v != "x2" {
		t.Fatalf("second output = %q, %v; want x2", v, err)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("RunStage returned %v; want context.Canceled", err)
	}
}
