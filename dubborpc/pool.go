package dubborpc

import "sync"

// Request packets and response bodies go through pooled buffers, so that a call's framing
// allocates nothing once the pool is warm. A buffer grown beyond maxPooled is left to the
// garbage collector rather than kept: one large call must not pin its memory for the life of
// the process.
const (
	maxPooled     = 64 << 10
	initialPooled = 512
)

var buffers = sync.Pool{New: func() any {
	b := make([]byte, 0, initialPooled)
	return &b
}}

// getBuffer returns a pooled buffer, empty; give it back with putBuffer, with *p set to what
// it grew into.
func getBuffer() *[]byte {
	p := buffers.Get().(*[]byte)
	*p = (*p)[:0]
	return p
}

// getBody returns a buffer of n bytes: pooled (p non-nil, for putBuffer) up to maxPooled,
// fresh above.
func getBody(n int) (body []byte, p *[]byte) {
	if n > maxPooled {
		return make([]byte, n), nil
	}
	p = getBuffer()
	if cap(*p) < n {
		*p = make([]byte, n)
	}
	*p = (*p)[:n]
	return *p, p
}

// putBuffer gives p back to the pool (nil: nothing); nothing may use its bytes afterwards.
func putBuffer(p *[]byte) {
	if p == nil || cap(*p) > maxPooled {
		return
	}
	buffers.Put(p)
}
