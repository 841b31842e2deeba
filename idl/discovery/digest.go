package discovery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// addDigest adds the digest credential to conn in the background (AddAuth waits for a session,
// which may take any time while ZooKeeper is down), retrying until it succeeds; go-zookeeper
// then sends it again on every new session. Reads of nodes under a digest ACL fail with "not
// authenticated" until it is added, and are retried like any failed read. The returned stop
// ends the attempts; call it after closing conn.
func addDigest(ctx context.Context, conn *zk.Conn, digest string, log *slog.Logger) (stop func()) {
	if digest == "" {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			err := conn.AddAuth("digest", []byte(digest))
			if err == nil {
				return
			}
			log.Debug("zookeeper digest auth failed; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-time.After(metadataRetryDelay):
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
