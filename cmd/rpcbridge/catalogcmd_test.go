package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	consulpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/consul"
	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

const twoServicesConfig = `registries:
  - name: local
    type: static
    static:
      services:
        - name: hello
          protocol: http
          endpoints:
            - {address: 127.0.0.1, port: 9000}
            - {address: 127.0.0.2, port: 9000, healthy: false}
        - name: helloworld.Greeter
          protocol: grpc
          endpoints:
            - {address: 127.0.0.1, port: 50051}
`

// TestCatalogTable checks the default output: one aligned row per service with its protocol,
// registries and endpoint counts.
func TestCatalogTable(t *testing.T) {
	file := writeFile(t, t.TempDir(), "rpcbridge.yaml", twoServicesConfig)
	code, out, stderr := runCLI(t, context.Background(), "catalog", "--config", file)
	if code != exitOK {
		t.Fatalf("catalog exit %d:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := [][]string{
		{"SERVICE", "PROTOCOL", "SOURCES", "ENDPOINTS", "HEALTHY", "STALE"},
		{"grpc:helloworld.Greeter", "grpc", "local", "1", "1", "0"},
		{"http:hello", "http", "local", "2", "1", "0"},
	}
	if len(lines) != len(want) {
		t.Fatalf("want %d lines, got:\n%s", len(want), out)
	}
	for i, line := range lines {
		if got := strings.Fields(line); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("line %d = %q, want the columns %q", i, line, want[i])
		}
	}
	// Aligned: every column starts at the same offset on every line.
	col := regexp.MustCompile(`\S+`)
	header := col.FindAllStringIndex(lines[0], -1)
	for _, line := range lines[1:] {
		for i, loc := range col.FindAllStringIndex(line, -1) {
			if loc[0] != header[i][0] {
				t.Errorf("column %d of %q starts at %d, the header's at %d", i, line, loc[0], header[i][0])
			}
		}
	}
	if code, _, stderr := runCLI(t, context.Background(), "catalog", "--config", file, "--format", "xml"); code != exitConfig || !strings.Contains(stderr, `--format "xml"`) {
		t.Errorf("--format xml: exit %d, stderr %q; want exit 2 naming the value", code, stderr)
	}
}

// TestCatalogJSONIsTheAdminShape compares `catalog --format json` with what a running serve's
// /api/v1/catalog answers for the same configuration: the same document.
func TestCatalogJSONIsTheAdminShape(t *testing.T) {
	srv := startServe(t, twoServicesConfig)
	code, out, stderr := runCLI(t, context.Background(), "catalog", "--config", srv.file, "--format", "json")
	if code != exitOK {
		t.Fatalf("catalog exit %d:\n%s", code, stderr)
	}
	status, body, err := get("http://" + srv.admin + "/api/v1/catalog")
	if err != nil || status != 200 {
		t.Fatalf("GET /api/v1/catalog = %d %v", status, err)
	}
	var fromCLI, fromAdmin any
	if err := json.Unmarshal([]byte(out), &fromCLI); err != nil {
		t.Fatalf("catalog --format json is not JSON: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(body), &fromAdmin); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromCLI, fromAdmin) {
		t.Fatalf("catalog --format json differs from /api/v1/catalog:\ncli:   %s\nadmin: %s", out, body)
	}
	if !strings.Contains(out, `"id": "http:hello"`) {
		t.Fatalf("catalog --format json lacks the service:\n%s", out)
	}
}

// TestCatalogFailsWhenARegistryIsDown points catalog at the address of a real ZooKeeper, then of
// a real Consul agent, that was stopped, next to a static registry: the output still has the
// static services, the exit status is 1, and stderr names the registry with the error its client
// library got (go-zookeeper's dial error, the Consul API client's).
func TestCatalogFailsWhenARegistryIsDown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) string // a stopped peer's address
		block string                    // the registry's type and block, for %q the address
		want  string                    // the reason, a regexp around the quoted address
	}{
		{"zookeeper", func(t *testing.T) string { s := zkpeer.Start(t); s.Stop(); return s.Addr() },
			"type: zookeeper\n    zookeeper: {servers: [%q]}",
			"cannot connect to ZooKeeper: dial tcp %s: connect: connection refused$"},
		{"consul", func(t *testing.T) string { a := consulpeer.Start(t); a.Stop(); return a.Addr() },
			"type: consul\n    consul: {address: %q}",
			"cannot reach Consul: .*%s.*connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.start(t)
			file := writeFile(t, t.TempDir(), "rpcbridge.yaml", fmt.Sprintf(`syncTimeout: 3s
registries:
  - name: down
    `+tc.block+`
  - name: local
    type: static
    static:
      services:
        - {name: hello, protocol: http, endpoints: [{address: 127.0.0.1, port: 9000}]}
`, addr))
			code, out, stderr := runCLI(t, context.Background(), "catalog", "--config", file)
			if code != exitFailed {
				t.Fatalf("catalog exit %d, want %d; stderr:\n%s", code, exitFailed, stderr)
			}
			if !strings.Contains(out, "http:hello") {
				t.Errorf("the reachable registry's services are not printed:\n%s", out)
			}
			want := regexp.MustCompile(`(?m)^  down \(no listing\): ` + fmt.Sprintf(tc.want, regexp.QuoteMeta(addr)))
			if !want.MatchString(stderr) || !strings.Contains(stderr, "error: 1 registry could not be read") {
				t.Errorf("stderr does not say which registry failed and why; want %s in:\n%s", want, stderr)
			}
			if !strings.Contains(stderr, "waiting for down (cannot ") {
				t.Errorf("the progress lines do not say why the registry is waited for:\n%s", stderr)
			}
		})
	}
}
