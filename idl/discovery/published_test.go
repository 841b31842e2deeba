package discovery

import (
	"sync"
	"testing"

	"github.com/rpcbridge/rpcbridge/idl"
)

// published records what a runner passes to its publish function, and holds the runner to its
// contract: calls never overlap, and no call repeats the list of the previous one.
type published struct {
	t     *testing.T
	mu    sync.Mutex
	busy  bool
	first []idl.Schema
	last  []idl.Schema
	calls uint64
}

func newPublished(t *testing.T) *published { return &published{t: t} }

// publish is the function given to Run.
func (p *published) publish(v []idl.Schema) {
	p.mu.Lock()
	if p.busy {
		p.t.Error("publish was called while another call was running")
	}
	p.busy = true
	if p.calls > 0 && EqualSchemas(p.last, v) {
		p.t.Errorf("publish was called again with an unchanged list of %d schemas", len(v))
	}
	if p.calls == 0 {
		p.first = v
	}
	p.last, p.calls = v, p.calls+1
	p.busy = false
	p.mu.Unlock()
}

// Latest returns the last published list and how many calls there were.
func (p *published) Latest() ([]idl.Schema, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last, p.calls
}

// First returns the list of the first call, and whether there was one.
func (p *published) First() ([]idl.Schema, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first, p.calls > 0
}
