package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/config"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/browser"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

// catalogEntry is a service of GET /api/v1/catalog, with what retention adds.
type catalogEntry struct {
	ID        string            `json:"id"`
	Endpoints []json.RawMessage `json:"endpoints"`
	Retained  *struct {
		Since time.Time `json:"since"`
		Until time.Time `json:"until"`
	} `json:"retained"`
}

// greeterEntry returns the test provider's service in serve's catalog, or nil when it has none.
func greeterEntry(admin string) (*catalogEntry, error) {
	code, body, err := get("http://" + admin + "/api/v1/catalog")
	if err != nil || code != http.StatusOK {
		return nil, fmt.Errorf("catalog: %d %v", code, err)
	}
	var cat struct {
		Services []catalogEntry `json:"services"`
	}
	if err := json.Unmarshal([]byte(body), &cat); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	for _, s := range cat.Services {
		if s.ID == greeterID {
			return &s, nil
		}
	}
	return nil, nil
}

// expectError checks that a response is a gateway error of that code and status.
func expectError(code int, body string, err error, wantCode int, wantStatus string) error {
	if err != nil {
		return err
	}
	var e struct {
		Error struct {
			Code   int    `json:"code"`
			Status string `json:"status"`
		} `json:"error"`
	}
	if code != wantCode || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != wantCode || e.Error.Status != wantStatus {
		return fmt.Errorf("got %d %s, want %d %s", code, strings.TrimSpace(body), wantCode, wantStatus)
	}
	return nil
}

// TestDubboServiceWithoutProvidersKeepsItsRoutes: the only provider of a Dubbo service, a real
// dubbo-go process registered in a real ZooKeeper, stops. ZooKeeper, reachable, no longer lists
// the service; its routes stay and answer 503 no_healthy_upstream (Envoy's answer for a cluster
// with no hosts), not 404 route_not_found, and the catalog shows it retained, without endpoints,
// until the default retention ends. The provider comes back: calls succeed. With a short
// retention configured, the routes go once it ends (404), although nothing else changes.
func TestDubboServiceWithoutProvidersKeepsItsRoutes(t *testing.T) {
	zk := zookeeper.Start(t)
	provider := dubboprovider.Start(t, dubboprovider.Options{ZooKeeper: zk.Addr(), App: "greeter-only", Registry: "interface"})
	srv := startServe(t, zookeeperConfig(zk.Addr()))
	if code, out, stderr := runCLI(t, context.Background(), "idl", "push", "greeter-api", greeterAPI, "--admin", "http://"+srv.admin); code != exitOK {
		t.Fatalf("idl push: exit %d %s %s", code, out, stderr)
	}
	gw := "http://" + srv.gateway
	rule, byConvention := gw+"/hello/Bob?times=1", gw+greeterBase+"sayHello~java.lang.String?name=Bob"
	succeeds := func() error {
		for _, url := range []string{rule, byConvention} {
			if code, body, err := send("GET", url, ""); err != nil || code != http.StatusOK || body != "\"Hello, Bob\"\n" {
				return fmt.Errorf("GET %s: %d %q %v", url, code, body, err)
			}
		}
		return nil
	}
	waitFor(t, "calls to the provider", succeeds)

	provider.Stop()
	waitFor(t, "the catalog to retain the service without endpoints", func() error {
		e, err := greeterEntry(srv.admin)
		switch {
		case err != nil:
			return err
		case e == nil:
			return fmt.Errorf("the catalog has no %s: the service was dropped", greeterID)
		case e.Retained == nil || len(e.Endpoints) != 0:
			return fmt.Errorf("%s: %d endpoints, retained %v", greeterID, len(e.Endpoints), e.Retained)
		}
		return nil
	})
	e, _ := greeterEntry(srv.admin)
	if got := e.Retained.Until.Sub(e.Retained.Since); got != config.DefaultServiceRetention {
		t.Errorf("retained from %s until %s (%s), want the default retention %s", e.Retained.Since, e.Retained.Until, got, config.DefaultServiceRetention)
	}
	// The gateway gets the empty endpoint set over EDS a moment after the catalog has it.
	waitFor(t, "the routes to answer 503 no_healthy_upstream", func() error {
		for _, url := range []string{rule, byConvention} {
			code, body, err := send("GET", url, "")
			if err := expectError(code, body, err, http.StatusServiceUnavailable, "no_healthy_upstream"); err != nil {
				return fmt.Errorf("GET %s: %w", url, err)
			}
		}
		return nil
	})
	code, body, err := get("http://" + srv.admin + "/api/v1/diagnostics")
	if err != nil || code != http.StatusOK || !strings.Contains(body, "no registry lists a provider any more (it left zk at ") {
		t.Errorf("GET /api/v1/diagnostics = %d %v, want the retention explained:\n%.2000s", code, err, body)
	}

	checkRetainedInConsole(t, srv, e.Retained.Until)

	provider.Restart()
	waitFor(t, "calls to the provider after its restart", succeeds)
	if e, err := greeterEntry(srv.admin); err != nil || e == nil || e.Retained != nil || len(e.Endpoints) != 1 {
		t.Fatalf("after the restart the catalog has %+v (%v), want the service live with one endpoint", e, err)
	}

	// A short retention, and a route that tells when the reloaded configuration is in effect.
	short := strings.Replace(zookeeperConfig(zk.Addr()), "    type: zookeeper\n", "    type: zookeeper\n    serviceRetention: 1s\n", 1) +
		fmt.Sprintf(`  - service: %q
    method: sayHello
    paramTypes: [java.lang.String]
    http: {method: GET, path: "/reloaded/{name}"}
    params: [{arg: name, from: path}]
`, greeterID)
	srv.rewrite(t, short)
	waitFor(t, "the reloaded configuration", func() error {
		if code, body, err := send("GET", gw+"/reloaded/Bob", ""); err != nil || code != http.StatusOK {
			return fmt.Errorf("%d %q %v", code, body, err)
		}
		return nil
	})
	provider.Stop()
	// Nothing changes after the registry drops the service: only the end of its retention
	// removes it, and its routes with it.
	waitFor(t, "the routes to go when the retention ends", func() error {
		if e, err := greeterEntry(srv.admin); err != nil || e != nil {
			return fmt.Errorf("the catalog still has %+v %v", e, err)
		}
		for _, url := range []string{rule, byConvention, gw + "/reloaded/Bob"} {
			code, body, err := send("GET", url, "")
			if err := expectError(code, body, err, http.StatusNotFound, "route_not_found"); err != nil {
				return fmt.Errorf("GET %s: %w", url, err)
			}
		}
		return nil
	})
}

// checkRetainedInConsole opens the console's catalog page and checks that it marks the retained
// service and says until when its routes stay.
func checkRetainedInConsole(t *testing.T, srv *running, until time.Time) {
	t.Helper()
	b := browser.Start(t)
	open(t, b, srv, "catalog", `document.querySelector("#catalog-list[data-loaded]")`)
	card := fmt.Sprintf(`document.querySelector('#catalog-list .service[data-id=%q]')`, greeterID)
	type shown struct{ Retained, Badge, Until, Notice string }
	got := page[shown](t, b, card, `(() => { const c = `+card+`; const n = c.querySelector("[data-retained-until]");
		return {Retained: c.dataset.retained, Badge: (c.querySelector('[data-field="retained"]') || {}).textContent || "",
			Until: n ? n.dataset.retainedUntil : "", Notice: n ? n.textContent : ""}; })()`)
	shownUntil, err := time.Parse(time.RFC3339Nano, got.Until)
	if got.Retained != "true" || got.Badge != "retained" || err != nil || !shownUntil.Equal(until) ||
		!strings.Contains(got.Notice, "its routes answer 503 no_healthy_upstream until") {
		t.Errorf("the console shows the retained service as %+v; want it marked retained until %s", got, until)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("errors in the browser console: %v", p)
	}
}

// TestSameSourceIgnoresRetention: a reload that changes only serviceRetention keeps the running
// source (no reconnect to the registry); any other change restarts it.
func TestSameSourceIgnoresRetention(t *testing.T) {
	ten, one := yamltime.Duration(10*time.Minute), yamltime.Duration(time.Second)
	base := config.RegistryConfig{Name: "zk", Type: "zookeeper", ServiceRetention: &ten}
	retention := base
	retention.ServiceRetention = &one
	if !sameSource(base, retention) {
		t.Error("a changed serviceRetention restarts the source")
	}
	other := base
	other.Type = "consul"
	if sameSource(base, other) {
		t.Error("a changed registry type keeps the source")
	}
}
