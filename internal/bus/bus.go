// Package bus connects pipeline stages. A Topic holds the latest value of one kind and wakes its
// subscribers when it changes; a stage reads the latest values of its inputs, computes its output
// with a pure function, and publishes it only when it differs from the last one. Intermediate
// values may be skipped (a slow subscriber sees only the newest), which is what a pipeline of
// full-state snapshots wants.
package bus

import (
	"context"
	"reflect"
	"sync"
)

// Topic holds the latest value of type T.
//
// Waiters share one channel per topic: Publish closes it and puts a fresh one in its place, so a
// topic holds no state per waiter and a wait that is abandoned (its context ended, or another
// input of a stage changed first) leaves nothing behind.
type Topic[T any] struct {
	mu    sync.Mutex
	value T
	seq   uint64
	// next is closed by the Publish that stores sequence number seq+1.
	next chan struct{}
	// last is the channel closed by the Publish that stored seq; nil while seq is 0.
	last  chan struct{}
	equal func(a, b T) bool
}

// NewTopic returns an empty topic. equal decides whether a published value is new; a value equal
// to the current one is dropped without waking anyone. A nil equal treats every value as new.
func NewTopic[T any](equal func(a, b T) bool) *Topic[T] {
	return &Topic[T]{equal: equal, next: make(chan struct{})}
}

// Publish stores v and wakes subscribers, unless v equals the current value. It reports whether v
// was stored.
func (t *Topic[T]) Publish(v T) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seq > 0 && t.equal != nil && t.equal(t.value, v) {
		return false
	}
	t.value = v
	t.seq++
	close(t.next)
	t.last, t.next = t.next, make(chan struct{})
	return true
}

// Latest returns the current value and its sequence number; 0 means nothing was published yet.
func (t *Topic[T]) Latest() (T, uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.value, t.seq
}

// Changed returns a channel that is closed once the topic's sequence number exceeds seq. The
// channel is shared with every other caller; nothing needs to be released when it is not used.
func (t *Topic[T]) Changed(seq uint64) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seq > seq {
		return t.last // already closed
	}
	return t.next
}

// Wait blocks until the topic's sequence number exceeds seq, then returns the latest value and
// its sequence number.
func (t *Topic[T]) Wait(ctx context.Context, seq uint64) (T, uint64, error) {
	select {
	case <-t.Changed(seq):
		v, s := t.Latest()
		return v, s, nil
	case <-ctx.Done():
		var zero T
		return zero, seq, ctx.Err()
	}
}

// Watchable is any topic, seen only as something that changes; a stage uses it to wait on inputs
// of different types.
type Watchable interface {
	// Changed returns a channel closed once the sequence number exceeds seq.
	Changed(seq uint64) <-chan struct{}
	// Seq returns the current sequence number.
	Seq() uint64
}

// Seq returns the current sequence number.
func (t *Topic[T]) Seq() uint64 {
	_, s := t.Latest()
	return s
}

// RunStage calls step whenever any input changed since its last call, until ctx ends. step reads
// the inputs' latest values itself, so that several changes that arrive together cause one call.
// It waits until every input has published at least once before the first call.
func RunStage(ctx context.Context, step func(), inputs ...Watchable) error {
	seen := make([]uint64, len(inputs))
	for i, in := range inputs {
		select {
		case <-in.Changed(0):
		case <-ctx.Done():
			return ctx.Err()
		}
		seen[i] = in.Seq()
	}
	for {
		step()
		if err := waitAny(ctx, inputs, seen); err != nil {
			return err
		}
	}
}

// waitAny blocks until one input's sequence number exceeds the one in seen, then updates seen.
// It selects on the inputs' shared channels directly, so a wait starts no goroutine and leaves
// nothing behind on the inputs that did not change.
func waitAny(ctx context.Context, inputs []Watchable, seen []uint64) error {
	cases := make([]reflect.SelectCase, 0, len(inputs)+1)
	cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())})
	for i, in := range inputs {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(in.Changed(seen[i]))})
	}
	if chosen, _, _ := reflect.Select(cases); chosen == 0 {
		return ctx.Err()
	}
	for i, in := range inputs {
		seen[i] = in.Seq()
	}
	return nil
}
