package controlplane

import (
	"time"

	"github.com/rpcbridge/rpcbridge/internal/backoff"
)

// backoffAfter is the minimum time between two pushes after nacks consecutive NACKs: 0 without
// NACKs, then initial, doubling with each NACK, at most maxBackoff. No jitter: it only delays a
// response the server has already computed for one stream, so spreading the delays across
// clients would save the control plane no work.
//
// A NACK never makes the server send the rejected configuration again (go-control-plane v0.14.0
// does, at once and in a loop, because a state-of-the-world NACK carries the last accepted
// version): the stream keeps holding the rejected response's position in the change log, so
// only new content is sent, spaced by this backoff while the client keeps rejecting it.
func backoffAfter(nacks int, initial, maxBackoff time.Duration) time.Duration {
	if nacks <= 0 {
		return 0
	}
	return backoff.Config{BaseDelay: initial, Multiplier: 2, MaxDelay: maxBackoff}.Backoff(nacks - 1)
}
