package dubborpc

import (
	"context"
	"fmt"
	"time"
)

// Liveness. A frozen provider (a stopped process, a machine stalled in swap) keeps its
// connections open, and the kernel still accepts new ones and acknowledges what is sent, so
// neither TCP nor a successful connect says that it answers. The client therefore:
//
//   - sends a heartbeat (a Dubbo event request) on a connection that has read nothing for
//     HeartbeatInterval, and closes it, failing its calls in flight with ErrConnectionLost, when
//     it has read nothing for HeartbeatTimeout (Dubbo's own rule: heartbeat timeout = 3 ×
//     heartbeat). Any byte read counts, so a large response being received is not taken for
//     silence;
//   - answers the provider's heartbeats;
//   - declares a new connection usable only once the provider has answered a first heartbeat
//     (handshake), within DialTimeout: until then no call is written to it, and a provider that
//     accepts but does not answer fails the dial (ErrUnavailable, nothing sent).

// readTracker records when bytes were last read from the connection.
type readTracker struct{ c *conn }

func (r readTracker) Read(p []byte) (int, error) {
	n, err := r.c.nc.Read(p)
	if n > 0 {
		r.c.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

// handshake sends a heartbeat and waits until the provider has sent a packet back (its answer,
// or a heartbeat of its own) or ctx ends.
func (c *conn) handshake(ctx context.Context) error {
	if err := c.write(heartbeatRequest(c.ids.Add(1))); err != nil {
		return err
	}
	select {
	case <-c.ready:
		return nil
	case <-c.done:
		return c.closeErr()
	case <-ctx.Done():
		return fmt.Errorf("%s accepted the connection but did not answer a heartbeat: %w", c.addr, ctx.Err())
	}
}

// heartbeatLoop sends a heartbeat when the connection has been quiet for HeartbeatInterval and
// closes it when nothing at all has come for HeartbeatTimeout.
func (c *conn) heartbeatLoop() {
	t := time.NewTicker(c.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			idle := now.Sub(time.Unix(0, c.lastRead.Load()))
			switch {
			case idle >= c.opts.HeartbeatTimeout:
				c.logger.Warn("dubbo connection silent; closing", "idle", idle)
				c.close(fmt.Errorf("%w: %s silent for %v (heartbeats unanswered)", ErrConnectionLost, c.addr, idle.Round(time.Millisecond)))
				return
			case idle >= c.opts.HeartbeatInterval:
				_ = c.write(heartbeatRequest(c.ids.Add(1)))
			}
		}
	}
}
