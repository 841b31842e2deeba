package main

import (
	"context"
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/internal/bus"
)

// newClock returns the topic that wakes the compile stage when a retention ends. It has published
// once already, so that the stage, which waits for every input, does not wait for it.
func newClock() *bus.Topic[time.Time] {
	t := bus.NewTopic[time.Time](nil)
	t.Publish(time.Now())
	return t
}

// wakeAtExpiry publishes the time on clock whenever the earliest retention of the latest
// compiled catalog ends (bridge.NextExpiry), so that the compile stage merges again and the
// services whose retention is over lose their routes then, although no registry changed. After
// each wake-up it waits for the compile it caused before it looks at the catalog again.
func wakeAtExpiry(ctx context.Context, out *bus.Topic[compiled], clock *bus.Topic[time.Time]) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c, seq := out.Latest()
		var fire <-chan time.Time
		if next, ok := bridge.NextExpiry(c.Catalog); ok {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-out.Changed(seq):
		case now := <-fire:
			clock.Publish(now)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-out.Changed(seq):
			}
		}
	}
}
