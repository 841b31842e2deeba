package zookeeper

import (
	"errors"

	"github.com/go-zookeeper/zk"
)

// isConnectionError reports errors that mean the session, not the node, is the problem.
func isConnectionError(err error) bool {
	for _, target := range []error{zk.ErrConnectionClosed, zk.ErrNoServer, zk.ErrSessionExpired,
		zk.ErrClosing, zk.ErrSessionMoved} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
