package zookeeper

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
)

// digestAuth adds the digest credential to a connection in the background: AddAuth waits for
// a session, which may take any time while ZooKeeper is down, and Run must go on publishing
// meanwhile. Once added, go-zookeeper sends the credential again on every new session.
type digestAuth struct {
	done chan struct{} // closed once AddAuth succeeded
	wake chan struct{}
	stop chan struct{} // closed by wait
	wg   sync.WaitGroup

	mu      sync.Mutex
	lastErr error
}

// parseDigest checks that a digest credential is "user:password".
func parseDigest(d string) error {
	user, password, ok := strings.Cut(d, ":")
	if !ok || user == "" || password == "" {
		return fmt.Errorf("the digest is not user:password")
	}
	return nil
}

// startDigestAuth adds digest to conn until it succeeds or ctx ends; with digest "" it is done
// at once. Call wait after closing conn.
func startDigestAuth(ctx context.Context, conn *zk.Conn, digest string) *digestAuth {
	a := &digestAuth{done: make(chan struct{}), wake: make(chan struct{}, 1), stop: make(chan struct{})}
	if digest == "" {
		close(a.done)
		return a
	}
	a.wg.Go(func() {
		for {
			err := conn.AddAuth("digest", []byte(digest))
			if err == nil {
				close(a.done)
				select {
				case a.wake <- struct{}{}:
				default:
				}
				return
			}
			a.mu.Lock()
			a.lastErr = err
			a.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-a.stop:
				return
			case <-time.After(retryDelay):
			}
		}
	})
	return a
}

// ok reports whether the credential was added.
func (a *digestAuth) ok() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// reason says why the credential is not added yet.
func (a *digestAuth) reason() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lastErr == nil {
		return "adding the digest credential"
	}
	return "adding the digest credential: " + a.lastErr.Error()
}

// wait returns when the background AddAuth has ended (after conn.Close or ctx's end).
func (a *digestAuth) wait() {
	close(a.stop)
	a.wg.Wait()
}
