package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// giveUp bounds every wait in these tests; it is never a pass criterion.
const giveUp = 20 * time.Second

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		// The kernel may give a port just closed to the next listener: never hand one out twice
		// (two listeners of one serve on the same port made it exit with "address in use").
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr
		}
	}
}

// handedOut are the addresses freeAddr returned in this test binary.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// running is an `rpcbridge serve` started by a test.
type running struct {
	file, xds, gateway, admin, data string
	// gatewayKeys and adminKeys are more keys of the gateway and admin blocks ("limits: {...}").
	gatewayKeys, adminKeys string
	done                   chan int
	cancel                 context.CancelFunc
}

// startServe writes the configuration (with %[1]s, %[2]s, %[3]s standing for the xds, gateway
// and admin addresses) and runs `rpcbridge serve` until the test ends.
func startServe(t testing.TB, cfgTemplate string) *running {
	t.Helper()
	return startServeLogging(t, cfgTemplate, nil)
}

// startServeLogging is startServe with serve's log (at debug level) written to logs as it
// happens; nil keeps it for the test log when serve fails.
func startServeLogging(t testing.TB, cfgTemplate string, logs io.Writer) *running {
	t.Helper()
	return startServeWithLogs(t, "", "", cfgTemplate, logs)
}

// startServeWith is startServe with more keys in the gateway and admin blocks.
func startServeWith(t testing.TB, gatewayKeys, adminKeys, cfgTemplate string) *running {
	t.Helper()
	return startServeWithLogs(t, gatewayKeys, adminKeys, cfgTemplate, nil)
}

// startServeWithLogs is startServeWith whose log goes to logs, as startServeLogging's does.
func startServeWithLogs(t testing.TB, gatewayKeys, adminKeys, cfgTemplate string, logs io.Writer) *running {
	t.Helper()
	r := &running{xds: freeAddr(t), gateway: freeAddr(t), admin: freeAddr(t), data: t.TempDir(), done: make(chan int, 1),
		gatewayKeys: gatewayKeys, adminKeys: adminKeys}
	r.file = writeFile(t, t.TempDir(), "rpcbridge.yaml", r.render(cfgTemplate))
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		var code int
		if logs != nil {
			code = run(ctx, []string{"serve", "--config", r.file, "--log-level", "debug"}, io.Discard, logs)
		} else {
			var stderr string
			if code, _, stderr = runCLI(t, ctx, "serve", "--config", r.file, "--log-level", "debug"); code != exitOK {
				t.Logf("serve exited %d:\n%s", code, stderr)
			}
		}
		r.done <- code
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(giveUp):
			t.Error("serve did not stop after cancel")
		}
	})
	waitFor(t, "readiness", func() error {
		resp, err := http.Get("http://" + r.admin + "/readyz")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("readyz %d: %s", resp.StatusCode, b)
		}
		return nil
	})
	return r
}

func (r *running) render(cfgTemplate string) string {
	return fmt.Sprintf("xds: {listen: %q}\ngateway: {listen: %q%s}\nadmin: {listen: %q%s}\ndataDir: %q\n",
		r.xds, r.gateway, r.gatewayKeys, r.admin, r.adminKeys, r.data) + cfgTemplate
}

// rewrite replaces the configuration file the way an editor does: write a temp file, rename it.
func (r *running) rewrite(t testing.TB, cfgTemplate string) {
	t.Helper()
	tmp := r.file + ".tmp"
	if err := os.WriteFile(tmp, []byte(r.render(cfgTemplate)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, r.file); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(giveUp)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s: %v", what, err)
}

// backend is a real HTTP server that names itself in every answer.
func backend(t *testing.T, name string) (addr string, port string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", name, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	host, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return host, p
}

func httpServiceConfig(port string, extra string) string {
	return fmt.Sprintf(`registries:
  - name: local
    type: static
    static:
      services:
        - name: hello
          protocol: http
          endpoints:
            - {address: 127.0.0.1, port: %s}
%s`, port, extra)
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestServeGatewayFollowsConfigEdits(t *testing.T) {
	_, portA := backend(t, "A")
	_, portB := backend(t, "B")
	srv := startServe(t, httpServiceConfig(portA, ""))

	code, body, err := get("http://" + srv.gateway + "/hello/x")
	if err != nil || code != http.StatusOK || body != "A /x" {
		t.Fatalf("GET /hello/x = %d %q %v; want 200 \"A /x\" (default route rewrites /hello/ to /)", code, body, err)
	}

	// A new endpoint and a new route, applied without a restart.
	srv.rewrite(t, httpServiceConfig(portB, "routes:\n  - {service: hello, pathPrefix: /api/, rewritePrefix: /v2/}\n"))
	waitFor(t, "traffic to follow the edited config", func() error {
		code, body, err := get("http://" + srv.gateway + "/api/y")
		if err != nil || code != http.StatusOK || body != "B /v2/y" {
			return fmt.Errorf("GET /api/y = %d %q %v", code, body, err)
		}
		return nil
	})
	if code, _, _ := get("http://" + srv.gateway + "/hello/x"); code != http.StatusNotFound {
		t.Errorf("the default route must be gone once a rule names the service; GET /hello/x = %d", code)
	}

	// An invalid edit is rejected and the running configuration keeps serving.
	srv.rewrite(t, "registries: [{name: BAD}]\n")
	time.Sleep(4 * reloadSettle) // let the watcher see it; the check below must still pass
	if code, body, _ := get("http://" + srv.gateway + "/api/y"); code != http.StatusOK || body != "B /v2/y" {
		t.Fatalf("after an invalid edit: GET /api/y = %d %q; want the previous config to keep serving", code, body)
	}

	// A dead endpoint answers 503 JSON quickly instead of hanging.
	dead := freeAddr(t)
	_, deadPort, _ := net.SplitHostPort(dead)
	srv.rewrite(t, httpServiceConfig(deadPort, ""))
	waitFor(t, "503 JSON for a dead endpoint", func() error {
		client := http.Client{Timeout: 5 * time.Second}
		resp, err := client.Get("http://" + srv.gateway + "/hello/x")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body struct {
			Error struct {
				Code   int    `json:"code"`
				Status string `json:"status"`
			} `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return fmt.Errorf("status %d, body not JSON: %w", resp.StatusCode, err)
		}
		if resp.StatusCode != http.StatusServiceUnavailable || body.Error.Code != 503 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			return fmt.Errorf("status %d, body %+v, content-type %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
		return nil
	})
}

func TestServeAdminAPI(t *testing.T) {
	_, port := backend(t, "A")
	srv := startServe(t, httpServiceConfig(port, "routes:\n  - {service: nosuch, path: /x}\n"))
	_, help, _ := runCLI(t, context.Background(), "serve", "--help")
	for path, want := range map[string]string{
		"/healthz":            `"ok"`,
		"/readyz":             `"ready": true`,
		"/api/v1/catalog":     `"http:hello"`,
		"/api/v1/routes":      `"/hello/"`,
		"/api/v1/diagnostics": `no service \"nosuch\"`,
		"/metrics":            "rpcbridge_",
		"/api/v1/stats":       `"windowSeconds"`,
		"/api/v1/openapi":     `"gatewayPath": "/gateway/"`,
		"/openapi.json":       `"openapi": "3.1.0"`,
		"/api/v1/idl":         `"schemas"`,
		"/gateway/hello/x":    "A /x",
		"/":                   "<title>rpcbridge console</title>",
	} {
		code, body, err := get("http://" + srv.admin + path)
		if err != nil || code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %v; want 200 containing %s; body:\n%.400s", path, code, err, want, body)
		}
		if named := strings.TrimSuffix(path, "hello/x"); !strings.Contains(help, named) {
			t.Errorf("serve --help does not name %s", named)
		}
	}
	srv.cancel()
	select {
	case code := <-srv.done:
		srv.done <- code
		if code != exitOK {
			t.Fatalf("graceful shutdown exit code %d, want 0", code)
		}
	case <-time.After(giveUp):
		t.Fatal("serve did not shut down")
	}
}
