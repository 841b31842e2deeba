package dubborpc

import "time"

// RawArg is a request argument that is already hessian2-encoded: its bytes are written into
// the request body as they are. It lets a caller send values the hessian2 library cannot
// build without registering Go types in its process-wide registry (typed objects of classes
// known only at run time). The bytes must be one complete hessian2 value that uses no class
// definition or type reference it does not itself define.
type RawArg []byte

// InBackoff reports whether the endpoint cannot take calls now: none of its connections is
// live and every one of them waits out a backoff after a failed dial. Calls made now would
// fail fast with ErrUnavailable, so a balancer can skip the endpoint.
func (e *Endpoint) InBackoff() bool {
	if e.closed.Load() {
		return true
	}
	now := time.Now()
	for _, s := range e.slots {
		s.mu.Lock()
		live := s.conn != nil && !s.conn.closed()
		waiting := s.dialing == nil && s.failures > 0 && now.Before(s.retryAt)
		s.mu.Unlock()
		if live || !waiting {
			return false
		}
	}
	return true
}
