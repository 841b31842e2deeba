package discovery

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// noResync is a resync interval that never comes during a test: only watches can explain an update.
const noResync = time.Hour

// watchedCenter runs a MetadataCenter on servers until the test ends and returns what it publishes.
func watchedCenter(t *testing.T, servers []string, debounce time.Duration, logs *logRecorder) *published {
	t.Helper()
	mc, err := NewMetadataCenter(MetadataCenterOptions{Servers: servers, Logger: slog.New(logs),
		Resync: noResync, Debounce: debounce})
	if err != nil {
		t.Fatal(err)
	}
	out := newPublished(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mc.Run(ctx, out.publish) }()
	t.Cleanup(func() { cancel(); <-done })
	return out
}

// testConn is a ZooKeeper client for writing definitions, closed when the test ends.
func testConn(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// reads counts the MetadataCenter's completed reads of the tree (full or not).
func reads(logs *logRecorder, full bool) int {
	return logs.count("metadata center read", map[string]string{"full": fmt.Sprint(full)})
}

func TestMetadataCenterFollowsWatches(t *testing.T) {
	server := zookeeper.Start(t)
	conn := testConn(t, server.Addr())
	logs := newLogRecorder()
	out := watchedCenter(t, []string{server.Addr()}, 0, logs)

	// The metadata root does not exist yet: the first read finds nothing and watches for it.
	waitFor(t, "the first read", func() bool { return reads(logs, true) > 0 })
	if got, _ := out.Latest(); len(got) != 0 {
		t.Fatalf("schemas of an empty metadata center = %v", names(got))
	}

	const userName = "metadata-com.example.user.userservice"
	const orderName = "metadata-com.example.order.orderservice"
	const userPath = "/dubbo/metadata/com.example.user.UserService/provider/user-provider"
	const orderPath = "/dubbo/metadata/com.example.order.OrderService/1.0.0/provider/order-provider"
	full := definition(t, "", "", false)
	writeNode(t, conn, userPath, full)
	waitFor(t, "the definition under the new metadata root", func() bool {
		got, _ := out.Latest()
		_, ok := schemaNamed(got, userName)
		return ok
	})

	// A definition under a new interface.
	writeNode(t, conn, orderPath, definition(t, "1.0.0", "", false))
	waitFor(t, "the definition under a new interface", func() bool {
		got, _ := out.Latest()
		_, ok := schemaNamed(got, orderName+"-1.0.0")
		return ok
	})

	// A definition's content changes: only that node is read again.
	before := logs.count("metadata center read", map[string]string{"full": "false", "zkReads": "1"})
	writeNode(t, conn, userPath, definition(t, "", "", true))
	var changed idl.Schema
	waitFor(t, "the changed definition", func() bool {
		got, _ := out.Latest()
		changed, _ = schemaNamed(got, userName)
		return changed.Version == 2
	})
	wantMethods := len(definitionSchema(t, full).Interfaces[0].Methods) - 1
	if n := len(changed.Interfaces[0].Methods); n != wantMethods {
		t.Errorf("changed schema has %d methods, want %d", n, wantMethods)
	}
	if after := logs.count("metadata center read", map[string]string{"full": "false", "zkReads": "1"}); after <= before {
		t.Errorf("no read after the change was limited to the changed node (%d single-node reads before, %d after)", before, after)
	}

	// A definition is deleted.
	if err := conn.Delete(orderPath, -1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted definition to go", func() bool {
		got, _ := out.Latest()
		_, ok := schemaNamed(got, orderName+"-1.0.0")
		return !ok && len(got) == 1
	})
	if full := reads(logs, true); full != 1 {
		t.Errorf("%d full reads, want 1 (the first session's)", full)
	}
}

// definitionSchema parses a definition the way the metadata center does.
func definitionSchema(t *testing.T, data []byte) idl.Schema {
	t.Helper()
	schemas, _, problems := buildDefinitionSchemas(context.Background(),
		[]definitionNode{{Path: "/x", Interface: userService, Data: data}}, nil)
	if len(problems) > 0 || len(schemas) != 1 {
		t.Fatalf("fixture does not parse: %v", problems)
	}
	return schemas[0]
}

func TestMetadataCenterDebouncesBursts(t *testing.T) {
	server := zookeeper.Start(t)
	conn := testConn(t, server.Addr())
	writeNode(t, conn, "/dubbo/metadata/com.example.user.UserService/provider/user-provider", definition(t, "", "", false))
	logs := newLogRecorder()
	out := watchedCenter(t, []string{server.Addr()}, 500*time.Millisecond, logs)
	waitFor(t, "the first definition", func() bool { got, _ := out.Latest(); return len(got) == 1 })
	_, seq := out.Latest()
	readsBefore := reads(logs, false)

	// Twenty providers publish their definitions back to back.
	const burst = 20
	data := definition(t, "", "", false)
	for i := range burst {
		writeNode(t, conn, fmt.Sprintf("/dubbo/metadata/com.example.burst.Service%02d/provider/app%02d", i, i), data)
	}
	waitFor(t, "every definition of the burst", func() bool { got, _ := out.Latest(); return len(got) == 1+burst })
	_, after := out.Latest()
	publishes, passes := after-seq, reads(logs, false)-readsBefore
	t.Logf("a burst of %d writes gave %d reads and %d publishes", burst, passes, publishes)
	if publishes >= burst/2 || passes >= burst/2 {
		t.Errorf("a burst of %d writes gave %d reads and %d publishes, want fewer than %d", burst, passes, publishes, burst/2)
	}
}

func TestMetadataCenterWatchesAgainAfterSessionExpiry(t *testing.T) {
	server := zookeeper.Start(t)
	proxy := zookeeper.NewProxy(t, server.Addr())
	conn := testConn(t, server.Addr())
	writeNode(t, conn, "/dubbo/metadata/com.example.user.UserService/provider/user-provider", definition(t, "", "", false))
	logs := newLogRecorder()
	out := watchedCenter(t, []string{proxy.Addr()}, 0, logs)
	waitFor(t, "the first definition", func() bool { got, _ := out.Latest(); return len(got) == 1 })

	session, ok := proxy.LastSession()
	if !ok {
		t.Fatal("the proxy saw no session")
	}
	if err := server.ExpireSession(session); err != nil {
		t.Fatal(err)
	}
	// The new session is listed in full; a definition written after that arrives by a watch armed
	// in the new session.
	waitFor(t, "a full read in the new session", func() bool { return reads(logs, true) >= 2 })
	writeNode(t, conn, "/dubbo/metadata/com.example.order.OrderService/provider/order-provider", definition(t, "", "", false))
	waitFor(t, "the definition written after the expiry", func() bool {
		got, _ := out.Latest()
		_, ok := schemaNamed(got, "metadata-com.example.order.orderservice")
		return ok
	})
}
