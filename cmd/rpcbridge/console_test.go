package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/browser"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the console screenshot shown in the README to docs/console.png")

// quickstartFile is the quickstart's configuration, which the console tests run.
const quickstartFile = "../../examples/quickstart/rpcbridge.yaml"

// quickstart runs the quickstart's setup with free ports: two HTTP backends, a grpc-go server,
// the dubbo-go provider (no registry), `rpcbridge serve` with the quickstart's registries and
// rules, and the IDL that run.sh uploads; it returns once the gateway serves the RPC routes.
func quickstart(t *testing.T) *running {
	t.Helper()
	return quickstartWith(t, "", "")
}

// quickstartWith is quickstart with more keys for the gateway block (", key: value") and more
// top-level configuration.
func quickstartWith(t *testing.T, gatewayExtra, extra string) *running {
	t.Helper()
	_, hello1 := backend(t, "hello-1")
	_, hello2 := backend(t, "hello-2")
	grpcPort := startGRPC(t, "greeter-1")
	provider := dubboprovider.Start(t, dubboprovider.Options{Registry: "none", App: "quickstart-greeter"})
	raw, err := os.ReadFile(quickstartFile)
	if err != nil {
		t.Fatal(err)
	}
	// startServe writes the listen addresses and the data directory; the rest is the quickstart's.
	cfg := string(raw)
	cfg = cfg[strings.Index(cfg, "\nregistries:")+1:]
	for from, to := range map[string]string{"19001": hello1, "19002": hello2, "19101": grpcPort, "19201": strconv.Itoa(provider.Port())} {
		if strings.Count(cfg, "port: "+from) != 1 {
			t.Fatalf("%s no longer has one endpoint on port %s: update this test", quickstartFile, from)
		}
		cfg = strings.Replace(cfg, "port: "+from, "port: "+to, 1)
	}
	srv := startServeWith(t, gatewayExtra, "", cfg+extra)

	set, err := proto.MarshalOptions{Deterministic: true}.Marshal(descriptorSet(testgrpc.File_grpc_testing_test_proto))
	if err != nil {
		t.Fatal(err)
	}
	pb := writeFile(t, t.TempDir(), "grpc-testing.pb", string(set))
	for name, path := range map[string]string{"grpc-testing": pb, "greeter-dubbo": greeterAPI} {
		if code, out, stderr := runCLI(t, context.Background(), "idl", "push", name, path, "--admin", "http://"+srv.admin); code != exitOK {
			t.Fatalf("idl push %s: exit %d %s %s", name, code, out, stderr)
		}
	}
	waitFor(t, "the quickstart's RPC routes", func() error {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/greetings/Ada?times=1", ""}, {"POST", "/grpc.testing.TestService/UnaryCall", "{}"},
		} {
			if code, body, err := send(c.method, "http://"+srv.gateway+c.path, c.body); err != nil || code != http.StatusOK {
				return fmt.Errorf("%s %s: %d %s %v", c.method, c.path, code, body, err)
			}
		}
		return nil
	})
	return srv
}

// apiGet decodes a JSON answer of the admin API.
func apiGet(t *testing.T, srv *running, path string, out any) {
	t.Helper()
	code, body, err := get("http://" + srv.admin + path)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET %s: %d %v %s", path, code, err, body)
	}
	if err := json.Unmarshal([]byte(body), out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// page evaluates expression (a JSON-serializable value) once predicate is truthy.
func page[T any](t *testing.T, b *browser.Browser, predicate, expression string) T {
	t.Helper()
	ctx := b.Ctx
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+predicate+")", chromedp.WithPollingTimeout(giveUp))); err != nil {
		t.Fatalf("waiting for %s: %v", predicate, err)
	}
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// open navigates to one page of the console and waits until it has loaded.
func open(t *testing.T, b *browser.Browser, srv *running, view, loaded string) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("http://"+srv.admin+"/#"+view)); err != nil {
		t.Fatal(err)
	}
	page[bool](t, b, loaded, "true")
}

// do runs browser actions, failing the test on an error or when they have not run within
// giveUp (a selector that matches nothing waits forever otherwise).
func do(t *testing.T, b *browser.Browser, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, giveUp)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestConsole opens the console of a running quickstart in headless chromium and checks that
// each page shows what the admin API returns, that an upload error names file:line:col, that
// Swagger UI's "try it out" gets the real dubbo-go provider's answer through the gateway, and
// that the pages reached nothing but the admin address. Screenshots go to the test's artifact
// directory (go test -artifacts); -update-screenshot writes docs/console.png.
func TestConsole(t *testing.T) {
	srv := quickstart(t)
	b := browser.Start(t)

	t.Run("catalog", func(t *testing.T) { checkCatalogPage(t, b, srv) })
	t.Run("routes", func(t *testing.T) { checkRoutesPage(t, b, srv) })
	t.Run("idl", func(t *testing.T) { checkIDLPage(t, b, srv) })
	t.Run("swagger try it out", func(t *testing.T) { checkTryItOut(t, b, srv) })
	t.Run("live figures", func(t *testing.T) { checkLivePage(t, b, srv) })

	if off := b.Offsite(srv.admin); len(off) > 0 {
		t.Errorf("the console requested URLs outside the admin address (it must work air-gapped): %v", off)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("errors in the browser console: %v", p)
	}
}

// shownEndpoint and shownService are what the catalog page shows, as text.
type shownEndpoint struct{ Address, Source, Weight, Health, Locality, Stale string }
type shownService struct {
	ID, Protocol, Sources string
	Endpoints             []shownEndpoint
	Labels                [][]string
}

func checkCatalogPage(t *testing.T, b *browser.Browser, srv *running) {
	open(t, b, srv, "catalog", `document.querySelector("#catalog-list[data-loaded]")`)
	got := page[[]shownService](t, b, "true", `[...document.querySelectorAll("#catalog-list .service")].map((s) => {
		const f = (n, name) => n.querySelector('[data-field="' + name + '"]').textContent;
		const rows = [...s.querySelectorAll("tr.endpoint")];
		return {ID: f(s, "id"), Protocol: f(s, "protocol"), Sources: f(s, "sources"),
			Endpoints: rows.map((r) => ({Address: f(r, "address"), Source: f(r, "source"), Weight: f(r, "weight"),
				Health: f(r, "health"), Locality: f(r, "locality"), Stale: f(r, "stale")})),
			Labels: rows.map((r) => [...r.querySelectorAll('[data-field="labels"] .label')].map((l) => l.textContent))};
	})`)

	var cat struct {
		Services []struct {
			ID, Protocol string
			Sources      []string
			Endpoints    []struct {
				Address        string
				Port, Weight   int
				Healthy, Stale bool
				Source         string
				Labels         map[string]string
				Locality       struct{ Region, Zone string }
			}
		}
	}
	apiGet(t, srv, "/api/v1/catalog", &cat)
	var want []shownService
	endpoints, healthy := 0, 0
	for _, s := range cat.Services {
		w := shownService{ID: s.ID, Protocol: s.Protocol, Sources: strings.Join(s.Sources, ", "), Endpoints: []shownEndpoint{}, Labels: [][]string{}}
		for _, e := range s.Endpoints {
			health, stale, locality := "unhealthy", "", "–"
			if e.Healthy {
				health, healthy = "healthy", healthy+1
			}
			if e.Stale {
				stale = "stale"
			}
			if l := strings.Trim(e.Locality.Region+"/"+e.Locality.Zone, "/"); l != "" {
				locality = l
			}
			w.Endpoints = append(w.Endpoints, shownEndpoint{Address: fmt.Sprintf("%s:%d", e.Address, e.Port), Source: e.Source,
				Weight: strconv.Itoa(e.Weight), Health: health, Locality: locality, Stale: stale})
			labels := []string{}
			for k, v := range e.Labels {
				labels = append(labels, k+"="+v)
			}
			slices.Sort(labels)
			w.Labels = append(w.Labels, labels)
			endpoints++
		}
		want = append(want, w)
	}
	if len(want) != 3 {
		t.Fatalf("the quickstart's catalog has %d services, want 3", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the catalog page differs from GET /api/v1/catalog (-api +page):\n%s", diff)
	}
	counts := page[map[string]string](t, b, "true", `({...document.getElementById("catalog-counts").dataset})`)
	if counts["services"] != strconv.Itoa(len(want)) || counts["endpoints"] != strconv.Itoa(endpoints) || counts["healthy"] != strconv.Itoa(healthy) {
		t.Errorf("counts %v, want %d services, %d endpoints, %d healthy", counts, len(want), endpoints, healthy)
	}
	b.Screenshot(t, "console-catalog.png")

	// The filter matches endpoint labels too: only the HTTP service has instance=hello-2.
	do(t, b, "filter", chromedp.SendKeys(chromedp.CSS("#catalog-search"), "hello-2"))
	shown := page[[]string](t, b, `document.getElementById("catalog-counts").dataset.shown === "1"`,
		`[...document.querySelectorAll("#catalog-list .service")].map((s) => s.dataset.id)`)
	if !slices.Equal(shown, []string{"http:hello"}) {
		t.Errorf("filter hello-2 shows %v, want [http:hello]", shown)
	}
}

// shownRoute is one row of the routes page.
type shownRoute struct{ Name, Methods, Path, Calls, Timeout string }

type shownGroup struct {
	Service     string
	Routes      []shownRoute
	Bindings    [][]string
	Diagnostics []string
}

func checkRoutesPage(t *testing.T, b *browser.Browser, srv *running) {
	open(t, b, srv, "routes", `document.querySelector("#routes-list[data-loaded]")`)
	got := page[[]shownGroup](t, b, "true", `[...document.querySelectorAll("#routes-list .route-group")].map((g) => {
		const f = (n, name) => n.querySelector('[data-field="' + name + '"]').textContent;
		const rows = [...g.querySelectorAll("tr.route")];
		return {Service: g.dataset.service,
			Routes: rows.map((r) => ({Name: r.dataset.name, Methods: f(r, "methods"), Path: f(r, "path"), Calls: f(r, "target"), Timeout: f(r, "timeout")})),
			Bindings: rows.map((r) => [...r.querySelectorAll(".binding")].map((x) => x.textContent)),
			Diagnostics: [...g.querySelectorAll("li.diag")].map((d) => d.dataset.subject + ": " + d.textContent)};
	})`)
	var gw struct {
		Routes []struct {
			Name, Cluster, PrefixRewrite string
			Timeout                      time.Duration
			Match                        struct {
				Path, PathPrefix, PathTemplate string
				Methods                        []string
			}
			Dubbo *struct {
				Method, Returns string
				Params          []struct{ Name, Type, From, Key string }
				Attachments     []string
			}
			GRPC *struct {
				Service, Method, Body, ResponseBody string
				ServerStreaming                     bool
			} `json:"grpc"`
		}
	}
	var diags struct {
		Diagnostics []struct{ Severity, Stage, Subject, Message string }
	}
	apiGet(t, srv, "/api/v1/routes", &gw)
	apiGet(t, srv, "/api/v1/diagnostics", &diags)
	groups := map[string]*shownGroup{}
	var order []string
	for _, r := range gw.Routes {
		g := groups[r.Cluster]
		if g == nil {
			g = &shownGroup{Service: r.Cluster, Routes: []shownRoute{}, Bindings: [][]string{}, Diagnostics: []string{}}
			groups[r.Cluster] = g
			order = append(order, r.Cluster)
		}
		methods := strings.Join(r.Match.Methods, ", ")
		if methods == "" {
			methods = "ANY"
		}
		path := r.Match.Path + r.Match.PathTemplate
		if r.Match.PathPrefix != "" {
			path = r.Match.PathPrefix + "*"
		}
		calls := r.Cluster
		bindings := []string{}
		switch {
		case r.Dubbo != nil:
			types := []string{}
			bindings = []string{}
			for _, p := range r.Dubbo.Params {
				types = append(types, p.Type)
				bindings = append(bindings, strings.TrimSpace(p.Name+" ← "+p.From+" "+p.Key))
			}
			for _, a := range r.Dubbo.Attachments {
				bindings = append(bindings, "attachment ← header "+a)
			}
			calls = r.Dubbo.Method + "(" + strings.Join(types, ", ") + ") → " + r.Dubbo.Returns
		case r.GRPC != nil:
			calls = r.GRPC.Service + "/" + r.GRPC.Method
			switch r.GRPC.Body {
			case "":
				bindings = append(bindings, "no body")
			case "*":
				bindings = append(bindings, "body → request")
			default:
				bindings = append(bindings, "body → "+r.GRPC.Body)
			}
			if r.GRPC.ResponseBody != "" {
				bindings = append(bindings, "response ← "+r.GRPC.ResponseBody)
			}
			if r.GRPC.ServerStreaming {
				bindings = append(bindings, "server stream")
			}
		case r.PrefixRewrite != "":
			calls += ", " + r.Match.PathPrefix + " → " + r.PrefixRewrite
		}
		g.Routes = append(g.Routes, shownRoute{Name: r.Name, Methods: methods, Path: path, Calls: calls, Timeout: r.Timeout.String()})
		g.Bindings = append(g.Bindings, bindings)
	}
	for _, d := range diags.Diagnostics {
		if g := groups[d.Subject]; g != nil {
			g.Diagnostics = append(g.Diagnostics, d.Subject+": "+d.Severity+" "+d.Stage+" "+d.Message)
		} else {
			t.Errorf("diagnostic of %s concerns no service with routes; this test expects the quickstart's to", d.Subject)
		}
	}
	slices.Sort(order)
	var want []shownGroup
	for _, id := range order {
		want = append(want, *groups[id])
	}
	// The page writes timeouts as Go's time.ParseDuration reads them: compare durations.
	for _, g := range got {
		for i, r := range g.Routes {
			if d, err := time.ParseDuration(r.Timeout); err == nil {
				g.Routes[i].Timeout = d.String()
			}
		}
	}
	if len(diags.Diagnostics) == 0 || len(want) != 3 {
		t.Fatalf("the quickstart has %d diagnostics and %d services with routes; this test expects some and 3", len(diags.Diagnostics), len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the routes page differs from GET /api/v1/routes and /api/v1/diagnostics (-api +page):\n%s", diff)
	}
	path := b.Screenshot(t, "console-routes.png")
	if *updateScreenshot {
		png, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "console.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
