package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
)

// greeterID is the catalog ID of the dubbo-go test provider's service.
const greeterID = "dubbo:org.rpcbridge.test.GreeterService:1.0.0:"

// greeterBase is the default Dubbo REST convention's path prefix of that service.
const greeterBase = "/dubbo/org.rpcbridge.test.GreeterService:1.0.0/"

// greeterAPI is the Java source of the provider's API, shared with the quickstart.
const greeterAPI = "../../examples/quickstart/dubbo-api"

// zookeeperConfig is a serve configuration with one ZooKeeper registry and two RPC rules: the
// sayHello(String, int) overload under a path variable and a query parameter, and slow with a
// short timeout.
func zookeeperConfig(zkAddr string) string {
	return fmt.Sprintf(`registries:
  - name: zk
    type: zookeeper
    zookeeper: {servers: [%q], root: dubbo, debounce: 50ms}
rpcRoutes:
  - service: %q
    method: sayHello
    paramTypes: [java.lang.String, int]
    http: {method: GET, path: "/hello/{name}"}
    params: [{arg: name, from: path}, {arg: times, from: query}]
  - service: %q
    method: slow
    http: {method: GET, path: "/slow"}
    params: [{arg: millis, from: query}]
    timeout: 300ms
`, zkAddr, greeterID, greeterID)
}

// send makes one request and returns the status and body.
func send(method, url, body string) (int, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

// greeterPorts returns the ports of the service's endpoints in serve's catalog.
func greeterPorts(admin string) ([]int, error) {
	code, body, err := get("http://" + admin + "/api/v1/catalog")
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("catalog: %d %v", code, err)
	}
	var cat struct {
		Services []struct {
			ID        string `json:"id"`
			Endpoints []struct {
				Port int `json:"port"`
			} `json:"endpoints"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(body), &cat); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var ports []int
	for _, s := range cat.Services {
		if s.ID == greeterID {
			for _, e := range s.Endpoints {
				ports = append(ports, e.Port)
			}
		}
	}
	slices.Sort(ports)
	return ports, nil
}

// waitPorts waits until the catalog lists exactly the given provider ports.
func waitPorts(t *testing.T, admin string, want ...int) {
	t.Helper()
	slices.Sort(want)
	waitFor(t, fmt.Sprintf("the catalog to list providers on %v", want), func() error {
		got, err := greeterPorts(admin)
		if err != nil || !slices.Equal(got, want) {
			return fmt.Errorf("ports %v %v", got, err)
		}
		return nil
	})
}

// TestRESTToDubboThroughServe: a real dubbo-go provider registers into a real ZooKeeper; serve
// discovers it, its API arrives as Java source through `rpcbridge idl push`, and the embedded
// gateway transcodes REST calls to it under the default convention and under rpcRoutes rules.
// serveGreeter runs serve with zookeeperConfig, pushes the greeter's API and waits until a
// Dubbo REST call goes through; gw is the gateway's base URL.
func serveGreeter(t *testing.T, zkAddr string) (srv *running, gw string) {
	t.Helper()
	srv = startServe(t, zookeeperConfig(zkAddr))
	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "greeter-api", greeterAPI, "--admin", "http://"+srv.admin); code != exitOK {
		t.Fatalf("idl push: exit %d %s %s", code, out, stderr)
	}
	gw = "http://" + srv.gateway
	waitFor(t, "the first Dubbo REST call", func() error {
		code, body, err := send("POST", gw+greeterBase+"sayHello~java.lang.String", `{"name":"Ada"}`)
		if err != nil || code != http.StatusOK || body != "\"Hello, Ada\"\n" {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	return srv, gw
}

func TestRESTToDubboThroughServe(t *testing.T) {
	zk := zookeeper.Start(t)
	first := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "greeter-1", Registry: "interface"})
	srv, gw := serveGreeter(t, zk.Addr())

	user := `{"id":"9007199254740993","name":"Ada","balance":"12345678901234567890.123456789","level":"SILVER",` +
		`"created":"2024-05-06T07:08:09.123Z","tags":["x","y"],"scores":{"math":90,"art":-3},` +
		`"address":{"street":"1 Rue","city":"Paris","zip":"75001"}}`
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string // exact JSON, or a substring when wantPart
		wantPart                 bool
	}{
		{"overload String by GET", "GET", greeterBase + "sayHello~java.lang.String?name=Bob", "", 200, `"Hello, Bob"`, false},
		{"rule: path variable and query", "GET", "/hello/Bob?times=2", "", 200, `"Hello, Bob Hello, Bob"`, false},
		{"echoUser: DTO, long, BigDecimal, enum, Date, List, Map, nested DTO", "POST", greeterBase + "echoUser", `{"user":` + user + `}`, 200, user, false},
		{"echoSample every other type family", "POST", greeterBase + "echoSample", `{"sample":` + dubboprovider.SampleJSON + `}`, 200, dubboprovider.SampleJSON, false},
		{"java exception", "POST", greeterBase + "fail", `{"message":"boom"}`, 500,
			`{"error":{"code":500,"status":"java_exception","exception":"org.rpcbridge.test.GreeterException","message":"boom"}}`, false},
		{"rule timeout", "GET", "/slow?millis=5000", "", 504, `"status":"upstream_timeout"`, true},
		{"rule fast enough", "GET", "/slow?millis=1", "", 200, `"slept 1ms"`, false},
		{"bad argument", "GET", "/hello/Bob?times=many", "", 400, `argument times`, true},
		{"bad nested field", "POST", greeterBase + "echoUser", `{"user":{"level":"BRONZE"}}`, 400, `is not a constant of org.rpcbridge.test.Level`, true},
		{"bare overloaded name", "POST", greeterBase + "sayHello", `{"name":"x"}`, 404, ``, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body, err := send(c.method, gw+c.path, c.body)
			ok := sameJSON(body, c.want)
			if c.wantPart {
				ok = strings.Contains(body, c.want)
			}
			if err != nil || code != c.status || !ok {
				t.Errorf("%s %s: %d %s %v\nwant %d %s", c.method, c.path, code, body, err, c.status, c.want)
			}
		})
	}

	t.Run("default route forwards x-request-id and never proxy credentials", func(t *testing.T) {
		req, err := http.NewRequest("GET", gw+greeterBase+"attachments", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Proxy-Authorization", "Basic c2VjcmV0")
		req.Header.Set("X-Request-Id", "forged")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var attachments map[string]string
		if err := json.NewDecoder(resp.Body).Decode(&attachments); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET attachments: %d %v", resp.StatusCode, err)
		}
		if id := attachments["x-request-id"]; len(id) != 36 || id == "forged" {
			t.Errorf("x-request-id attachment %q, want a generated UUID", id)
		}
		for k := range attachments {
			if strings.EqualFold(k, "proxy-authorization") {
				t.Errorf("Proxy-Authorization reached the provider: %v", attachments)
			}
		}
	})

	t.Run("openapi lists the Dubbo routes", func(t *testing.T) {
		code, body, err := get("http://" + srv.admin + "/openapi.json")
		for _, path := range []string{`"` + greeterBase + `echoUser"`, `"` + greeterBase + `sayHello~java.lang.String"`, `"/hello/{name}"`, `"/slow"`} {
			if err != nil || code != http.StatusOK || !strings.Contains(body, path) {
				t.Errorf("GET /openapi.json = %d %v, missing %s:\n%.800s", code, err, path, body)
			}
		}
		if strings.Contains(body, `"`+greeterBase+`sayHello~java.lang.String,int"`) {
			t.Errorf("the rule should replace the default route of sayHello(String, int)")
		}
	})

	t.Run("providers come and go", func(t *testing.T) {
		waitPorts(t, srv.admin, first.Port())
		load := startLoad(gw + "/hello/Eve?times=1")
		second := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "greeter-2", Registry: "interface"})
		waitPorts(t, srv.admin, first.Port(), second.Port())
		if failures := load.stop(); len(failures) > 0 {
			t.Fatalf("%d failed calls while a provider was added, first: %s", len(failures), failures[0])
		}

		load = startLoad(gw + "/hello/Eve?times=1")
		first.Stop()
		waitPorts(t, srv.admin, second.Port())
		// Only calls that were in flight to the removed provider may fail: their errors name it.
		removed := fmt.Sprintf(":%d", first.Port())
		failures := load.stop()
		for _, f := range failures {
			if !strings.Contains(f, removed) {
				t.Errorf("call failed while a provider was removed, not on the removed one (%s): %s", removed, f)
			}
		}
		t.Logf("%d calls failed on the removed provider while it went away", len(failures))
		// Only the second provider is left: every call now reaches it.
		for i := range 20 {
			if code, body, err := send("GET", gw+"/hello/Eve?times=1", ""); err != nil || code != 200 || body != "\"Hello, Eve\"\n" {
				t.Fatalf("call %d after the removal: %d %s %v", i, code, body, err)
			}
		}
	})
}

// load sends requests one after another until stopped and collects the failures.
type load struct {
	stopCh   chan struct{}
	wg       sync.WaitGroup
	failures []string
}

func startLoad(url string) *load {
	l := &load{stopCh: make(chan struct{})}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		for {
			select {
			case <-l.stopCh:
				return
			default:
			}
			code, body, err := send("GET", url, "")
			if err != nil || code != http.StatusOK {
				l.failures = append(l.failures, fmt.Sprintf("%d %s %v", code, strings.TrimSpace(body), err))
			}
		}
	}()
	return l
}

// stop ends the load and returns its failures.
func (l *load) stop() []string {
	close(l.stopCh)
	l.wg.Wait()
	return l.failures
}
