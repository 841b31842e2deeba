package discovery

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"os"
	"path"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/idl/java"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// fixture is the FullServiceDefinition a Java provider of com.example.user.UserService writes.
const fixture = "../java/testdata/userservice/servicedef.json"

const userService = "com.example.user.UserService"

// definition returns the fixture with its version and group parameters set and, when drop is
// set, without its last method (a changed API).
func definition(t *testing.T, version, group string, drop bool) []byte {
	t.Helper()
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	params := doc["parameters"].(map[string]any)
	if version != "" {
		params["version"] = version
	}
	if group != "" {
		params["group"] = group
	}
	if drop {
		methods := doc["methods"].([]any)
		doc["methods"] = methods[:len(methods)-1]
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// writeNode creates p and its parents (persistent) or sets its data when it exists.
func writeNode(t *testing.T, conn *zk.Conn, p string, data []byte) {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := 1; i < len(parts); i++ {
		parent := "/" + path.Join(parts[:i]...)
		if _, err := conn.Create(parent, nil, 0, zk.WorldACL(zk.PermAll)); err != nil && err != zk.ErrNodeExists {
			t.Fatalf("create %s: %v", parent, err)
		}
	}
	if _, err := conn.Create(p, data, 0, zk.WorldACL(zk.PermAll)); err == zk.ErrNodeExists {
		_, err = conn.Set(p, data, -1)
		if err != nil {
			t.Fatalf("set %s: %v", p, err)
		}
	} else if err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
}

func schemaNamed(schemas []idl.Schema, name string) (idl.Schema, bool) {
	for _, s := range schemas {
		if s.Name == name {
			return s, true
		}
	}
	return idl.Schema{}, false
}

func TestMetadataCenterReadsProviderDefinitions(t *testing.T) {
	server := zookeeper.Start(t)
	conn, _, err := zk.Connect([]string{server.Addr()}, 10*time.Second, zk.WithLogger(log.New(io.Discard, "", 0)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	const plain = "/dubbo/metadata/com.example.user.UserService/provider/user-provider"
	const versioned = "/dubbo/metadata/com.example.user.UserService/1.0.0/g1/provider/user-provider"
	const malformed = "/dubbo/metadata/com.example.bad.BadService/provider/bad-provider"
	writeNode(t, conn, plain, definition(t, "", "", false))
	writeNode(t, conn, versioned, definition(t, "1.0.0", "g1", false))
	writeNode(t, conn, malformed, []byte(`{"canonicalName": "com.example.bad.BadService", "methods": [`))
	writeNode(t, conn, "/dubbo/metadata/com.example.user.UserService/consumer/user-consumer",
		[]byte(`{"side":"consumer","interface":"com.example.user.UserService"}`))

	want, err := java.ParseServiceDefinitions(context.Background(), [][]byte{definition(t, "", "", false)})
	if err != nil {
		t.Fatal(err)
	}
	logs := newLogRecorder()
	mc, err := NewMetadataCenter(MetadataCenterOptions{Servers: []string{server.Addr()}, Logger: slog.New(logs),
		Resync: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	out := newPublished(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mc.Run(ctx, out.publish) }()
	defer func() { cancel(); <-done }()

	const plainName = "metadata-com.example.user.userservice"
	const versionedName = "metadata-com.example.user.userservice-1.0.0-g1"
	var got []idl.Schema
	waitFor(t, "the metadata center schemas", func() bool { got, _ = out.Latest(); return len(got) > 0 })
	if !reflect.DeepEqual(names(got), []string{plainName, versionedName}) {
		t.Fatalf("schemas = %v, want [%s %s] (malformed and consumer skipped)", names(got), plainName, versionedName)
	}
	for _, s := range got {
		if !reflect.DeepEqual(s.Interfaces, want.Interfaces) || !reflect.DeepEqual(s.Classes, want.Classes) {
			t.Errorf("schema %s differs from the parsed fixture", s.Name)
		}
		if s.Version != 1 {
			t.Errorf("schema %s version = %d, want 1", s.Name, s.Version)
		}
	}
	if logs.count("skipping a service definition that does not parse", map[string]string{"path": malformed}) != 1 {
		t.Errorf("the malformed definition at %s was not reported once", malformed)
	}

	// A provider publishes a changed API under the versioned path.
	writeNode(t, conn, versioned, definition(t, "1.0.0", "g1", true))
	waitFor(t, "the changed definition", func() bool {
		got, _ = out.Latest()
		s, ok := schemaNamed(got, versionedName)
		return ok && s.Version == 2
	})
	changed, _ := schemaNamed(got, versionedName)
	unchanged, _ := schemaNamed(got, plainName)
	if len(changed.Interfaces[0].Methods) != len(want.Interfaces[0].Methods)-1 {
		t.Errorf("changed schema has %d methods, want %d", len(changed.Interfaces[0].Methods), len(want.Interfaces[0].Methods)-1)
	}
	if unchanged.Version != 1 || !reflect.DeepEqual(unchanged.Interfaces, want.Interfaces) {
		t.Errorf("the unversioned schema changed too: version %d", unchanged.Version)
	}

	// A definition that turns malformed keeps its service's last good schema.
	writeNode(t, conn, plain, []byte(`{"canonicalName": 7}`))
	waitFor(t, "the broken definition to be reported", func() bool {
		return logs.count("skipping a service definition that does not parse", map[string]string{"path": plain}) > 0
	})
	if kept, _ := out.Latest(); !EqualSchemas(kept, got) {
		t.Errorf("schemas after a definition broke = %v, want the last ones %v", names(kept), names(got))
	}

	// ZooKeeper goes away: the last schemas stay.
	server.Stop()
	waitFor(t, "the metadata center to be reported unreachable", func() bool {
		return logs.count("metadata center unreachable; keeping the last schemas", nil) > 0
	})
	if kept, _ := out.Latest(); !EqualSchemas(kept, got) {
		t.Errorf("schemas after ZooKeeper stopped = %v, want the last ones %v", names(kept), names(got))
	}
}

func TestDefinitionIdentity(t *testing.T) {
	groupOnly := definitionNode{Interface: "a.B", Between: []string{"g"}, Data: []byte(`{"parameters":{"group":"g"}}`)}
	versionOnly := definitionNode{Interface: "a.B", Between: []string{"1.0"}, Data: []byte(`{"parameters":{"version":"1.0"}}`)}
	both := definitionNode{Interface: "a.B", Between: []string{"1.0", "g"}}
	for n, want := range map[*definitionNode]definitionID{
		&groupOnly: {iface: "a.B", group: "g"}, &versionOnly: {iface: "a.B", version: "1.0"},
		&both: {iface: "a.B", version: "1.0", group: "g"},
	} {
		if got := n.identity(); got != want {
			t.Errorf("identity(%v) = %+v, want %+v", n.Between, got, want)
		}
	}
}
