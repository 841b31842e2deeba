package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"
)

// runCLI runs the command line and returns its exit code, stdout and stderr.
func runCLI(t testing.TB, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadConfigExitsTwoWithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "rpcbridge.yaml", `registries:
  - name: local
    type: static
    static:
      services:
        - name: hello
          protocol: http
          endpoints:
            - {address: 127.0.0.1, port: 9000, wieght: 3}
`)
	for _, cmd := range []string{"render", "serve", "catalog"} {
		code, _, stderr := runCLI(t, context.Background(), cmd, "--config", file)
		if code != exitConfig {
			t.Errorf("%s: exit code %d, want %d; stderr:\n%s", cmd, code, exitConfig, stderr)
		}
		want := file + `:9: registries[0].static.services[0].endpoints[0].wieght: unknown key "wieght"`
		if !strings.Contains(stderr, want) {
			t.Errorf("%s: stderr does not name file, line and key.\nwant: %s\ngot:\n%s", cmd, want, stderr)
		}
	}
}

// TestEmptyConfigExitsTwo runs every command that reads the configuration on an empty file and
// on a comment-only one: both are a configuration error, never "no registries, no routes".
func TestEmptyConfigExitsTwo(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.yaml": "", "comments.yaml": "# rpcbridge\n\n# nothing yet\n"} {
		file := writeFile(t, dir, name, content)
		for _, cmd := range []string{"render", "serve", "catalog"} {
			// The deadline only ends a serve that took the file for a valid one.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			code, _, stderr := runCLI(t, ctx, cmd, "--config", file)
			cancel()
			if want := file + ": the configuration is empty"; code != exitConfig || !strings.Contains(stderr, want) {
				t.Errorf("%s %s: exit %d, stderr:\n%s\nwant exit %d and %q", cmd, name, code, stderr, exitConfig, want)
			}
		}
	}
}

func TestUnknownFlagExitsTwo(t *testing.T) {
	code, _, stderr := runCLI(t, context.Background(), "render", "--colour")
	if code != exitConfig || !strings.Contains(stderr, "--colour") {
		t.Fatalf("exit %d, stderr %q; want exit 2 naming the flag", code, stderr)
	}
}

const renderConfig = `registries:
  - name: local
    type: static
    static:
      services:
        - name: hello
          protocol: http
          endpoints:
            - {address: 127.0.0.1, port: 9000, weight: 3, zone: a}
            - {address: 127.0.0.2, port: 9000}
        - name: helloworld.Greeter
          protocol: grpc
          endpoints:
            - {address: 127.0.0.1, port: 50051}
routes:
  - {service: hello, path: /greet, methods: [GET], timeout: 2s}
`

func TestRenderIsByteIdenticalAndComplete(t *testing.T) {
	file := writeFile(t, t.TempDir(), "rpcbridge.yaml", renderConfig)
	for _, format := range []string{"yaml", "json"} {
		code, first, stderr := runCLI(t, context.Background(), "render", "--config", file, "--format", format)
		if code != exitOK {
			t.Fatalf("render exit %d: %s", code, stderr)
		}
		for range 3 {
			_, again, _ := runCLI(t, context.Background(), "render", "--config", file, "--format", format)
			if again != first {
				t.Fatalf("render --format %s is not byte-identical across runs", format)
			}
		}
		for _, want := range []string{"rpcbridge-http", "http:hello", "grpc:helloworld.Greeter", "/greet", "127.0.0.2"} {
			if !strings.Contains(first, want) {
				t.Errorf("render --format %s output lacks %q", format, want)
			}
		}
	}
}

func TestBootstrapDecodesAndValidates(t *testing.T) {
	code, out, stderr := runCLI(t, context.Background(), "bootstrap", "--xds-address", "10.1.2.3:18000", "--node-id", "envoy-1")
	if code != exitOK {
		t.Fatalf("bootstrap exit %d: %s", code, stderr)
	}
	js, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil {
		t.Fatalf("bootstrap does not decode as envoy.config.bootstrap.v3.Bootstrap: %v", err)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("bootstrap does not validate: %v", err)
	}
	if b.GetNode().GetId() != "envoy-1" || b.GetDynamicResources().GetAdsConfig() == nil {
		t.Fatalf("bootstrap lacks node id or ADS config: %s", out)
	}
	var generic map[string]any
	if err := json.Unmarshal(js, &generic); err != nil || !strings.Contains(string(js), "10.1.2.3") {
		t.Fatalf("bootstrap does not point at the xDS address: %s", out)
	}
	if code, _, _ := runCLI(t, context.Background(), "bootstrap"); code != exitConfig {
		t.Fatalf("bootstrap without --node-id exit %d, want %d", code, exitConfig)
	}
}

func TestRenderFlavor(t *testing.T) {
	file := writeFile(t, t.TempDir(), "rpcbridge.yaml", renderConfig)
	if code, _, stderr := runCLI(t, context.Background(), "render", "--config", file, "--flavor", "nginx"); code != exitConfig || !strings.Contains(stderr, `unknown flavor "nginx"`) {
		t.Fatalf("--flavor nginx: exit %d, stderr %q; want exit 2 naming the flavor", code, stderr)
	}
	bad := writeFile(t, t.TempDir(), "rpcbridge.yaml", "envoy: {flavor: nginx}\n"+renderConfig)
	if code, _, stderr := runCLI(t, context.Background(), "render", "--config", bad); code != exitConfig || !strings.Contains(stderr, ":1: envoy.flavor:") {
		t.Fatalf("envoy.flavor nginx: exit %d, stderr %q; want exit 2 with file:line", code, stderr)
	}
	code, out, stderr := runCLI(t, context.Background(), "render", "--config", file, "--flavor", "higress")
	if code != exitOK || !strings.Contains(out, "rpcbridge-http") {
		t.Fatalf("--flavor higress: exit %d: %s", code, stderr)
	}
}
