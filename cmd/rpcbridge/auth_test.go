package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// authTokens are the test's token values; every one must stay out of the logs.
var authTokens = map[string]string{
	"ci":     "ci-token-0123456789abcdef",
	"viewer": "viewer-token-0123456789abcdef",
	"xds":    "xds-token-0123456789abcdef",
}

// securedServe runs `rpcbridge serve` with admin.auth (ci: read+write, viewer: read) and
// xds.auth (gateways) on, and waits until it is ready, which needs its embedded gateway to have
// passed the xDS token check with its own token.
func securedServe(t *testing.T) (srv *running, tokenFiles map[string]string, logs *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	tokenFiles = map[string]string{}
	for name, v := range authTokens {
		tokenFiles[name] = writeFile(t, dir, name, v+"\n")
	}
	srv = &running{xds: freeAddr(t), gateway: freeAddr(t), admin: freeAddr(t), data: t.TempDir(), done: make(chan int, 1)}
	cfg := fmt.Sprintf(`xds:
  listen: %q
  auth: {tokens: [{name: gateways, file: %q}]}
gateway: {listen: %q}
admin:
  listen: %q
  auth:
    tokens:
      - {name: ci, scopes: [read, write], file: %q}
      - {name: viewer, scopes: [read], file: %q}
dataDir: %q
`, srv.xds, tokenFiles["xds"], srv.gateway, srv.admin, tokenFiles["ci"], tokenFiles["viewer"], srv.data)
	srv.file = writeFile(t, dir, "rpcbridge.yaml", cfg)
	logs = newSyncBuffer()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		srv.done <- run(ctx, []string{"serve", "--config", srv.file, "--log-level", "debug"}, &bytes.Buffer{}, logs)
	}()
	t.Cleanup(func() {
		cancel()
		<-srv.done
		if t.Failed() {
			t.Logf("serve log:\n%s", logs.String())
		}
	})
	waitFor(t, "readiness with xds.auth on", func() error {
		code, body, err := get("http://" + srv.admin + "/readyz")
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("readyz %d %s %v", code, body, err)
		}
		return nil
	})
	return srv, tokenFiles, logs
}

// TestServeWithTokens: serve with admin.auth and xds.auth; the CLI's admin client with and
// without tokens (401 and 403 exit with exitAuth, saying which), RPCBRIDGE_TOKEN, the
// standalone gateway with and without --xds-token-file, and logs that name tokens but never
// hold one.
func TestServeWithTokens(t *testing.T) {
	srv, files, logs := securedServe(t)
	admin := "http://" + srv.admin
	if code, _, err := get(admin + "/api/v1/catalog"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/catalog without a token: %d %v, want 401", code, err)
	}
	protoDir := filepath.Join(t.TempDir(), "protos")
	if err := os.MkdirAll(protoDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, protoDir, "greeter.proto", greeterProto)
	ctx := context.Background()

	code, _, stderr := runCLI(t, ctx, "idl", "push", "greeter", protoDir, "--admin", admin)
	if code != exitAuth || !strings.Contains(stderr, "401 unauthenticated") || !strings.Contains(stderr, "--token-file") {
		t.Errorf("push without a token: exit %d, stderr %q; want %d and 401", code, stderr, exitAuth)
	}
	code, _, stderr = runCLI(t, ctx, "idl", "push", "greeter", protoDir, "--admin", admin, "--token-file", files["viewer"])
	if code != exitAuth || !strings.Contains(stderr, "403 forbidden") || !strings.Contains(stderr, `token "viewer" lacks scope write`) {
		t.Errorf("push with a read token: exit %d, stderr %q; want %d and 403", code, stderr, exitAuth)
	}
	code, out, stderr := runCLI(t, ctx, "idl", "push", "greeter", protoDir, "--admin", admin, "--token-file", files["ci"])
	if code != exitOK || !strings.Contains(out, "greeter: version 1 stored") {
		t.Fatalf("push with the ci token: exit %d %q %q", code, out, stderr)
	}
	t.Setenv(tokenEnv, authTokens["viewer"])
	if code, out, stderr = runCLI(t, ctx, "idl", "ls", "--admin", admin); code != exitOK || !strings.Contains(out, "greeter") {
		t.Errorf("ls with %s: exit %d %q %q", tokenEnv, code, out, stderr)
	}
	if code, _, stderr = runCLI(t, ctx, "idl", "ls", "--admin", "http://192.0.2.1:19901"); code != exitConfig || !strings.Contains(stderr, "refusing to send the token over plain http") {
		t.Errorf("a token over plain http to another host: exit %d %q", code, stderr)
	}

	// The standalone gateway: with the token it gets the configuration, without it it does not.
	good := startStandalone(t, "--xds", srv.xds, "--xds-token-file", files["xds"])
	waitFor(t, "the gateway with the xDS token ready", func() error {
		if code, body, err := get("http://" + good.admin + "/readyz"); err != nil || code != http.StatusOK {
			return fmt.Errorf("readyz %d %s %v", code, body, err)
		}
		return nil
	})
	anon := startStandalone(t, "--xds", srv.xds)
	waitFor(t, "the anonymous gateway refused", func() error {
		if !strings.Contains(anon.stderr.String(), "Unauthenticated") {
			return fmt.Errorf("no Unauthenticated in its log yet")
		}
		return nil
	})
	if code, _, _ := get("http://" + anon.admin + "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("the anonymous gateway's readyz: %d, want 503", code)
	}
	waitFor(t, "the xDS denial in serve's log", func() error {
		if !strings.Contains(logs.String(), "xDS client denied") {
			return fmt.Errorf("not yet")
		}
		return nil
	})

	out = logs.String() + good.stderr.String() + anon.stderr.String()
	for _, want := range []string{`msg="admin request denied"`, "token=anonymous", "token=viewer", "token=ci group=idl"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q", want)
		}
	}
	for name, v := range authTokens {
		if strings.Contains(out, v) {
			t.Errorf("the logs hold the %s token", name)
		}
	}
}

// TestBootstrapCarriesTheXDSToken: --xds-token-file puts the token into the ADS grpc_service's
// initial_metadata.
func TestBootstrapCarriesTheXDSToken(t *testing.T) {
	file := writeFile(t, t.TempDir(), "xds", authTokens["xds"]+"\n")
	code, out, stderr := runCLI(t, context.Background(), "bootstrap", "--node-id", "n", "--xds-token-file", file)
	if code != exitOK || !strings.Contains(out, "initialMetadata:\n      - key: authorization\n        value: Bearer "+authTokens["xds"]+"\n") {
		t.Fatalf("exit %d, stderr %q, bootstrap:\n%s", code, stderr, out)
	}
	if code, _, stderr = runCLI(t, context.Background(), "bootstrap", "--node-id", "n", "--xds-token-file", file+".missing"); code != exitConfig {
		t.Errorf("a missing token file: exit %d %q", code, stderr)
	}
}
