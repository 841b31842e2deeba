package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rpcbridge/rpcbridge/internal/testpeers/browser"
)

// tryItPath is the quickstart's rpcRoutes rule: GET /greetings/{name}?times= calls the dubbo-go
// provider's sayHello(String, int).
const tryItPath = "/greetings/{name}"

// checkTryItOut runs Swagger UI's "try it out" on the Dubbo service's document: the request goes
// through the admin address's forward to the gateway and on to the real dubbo-go provider, and
// the answer Swagger UI shows is the one the gateway gives.
func checkTryItOut(t *testing.T, b *browser.Browser, srv *running) {
	open(t, b, srv, "api", `document.querySelector("#doc-select option")`)
	var docs struct {
		Documents []struct{ Service, URL string }
	}
	apiGet(t, srv, "/api/v1/openapi", &docs)
	options := page[[]string](t, b, "true", `[...document.querySelectorAll("#doc-select option")].map((o) => o.dataset.service)`)
	url := ""
	for i, d := range docs.Documents {
		if i >= len(options) || options[i] != d.Service {
			t.Fatalf("documents offered %v, the API lists %+v", options, docs.Documents)
		}
		if d.Service == greeterID {
			url = d.URL
		}
	}
	if url == "" || len(options) != len(docs.Documents) {
		t.Fatalf("no document for %s among %+v", greeterID, docs.Documents)
	}
	do(t, b, "choose the Dubbo document", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`const s = document.getElementById("doc-select"); s.value = %q; s.dispatchEvent(new Event("change"))`, url)))

	// The operation's block, found by its path; its id is Swagger UI's.
	block := page[string](t, b, fmt.Sprintf(`document.getElementById("swagger").dataset.document === %q &&
		[...document.querySelectorAll(".opblock-summary-path")].some((p) => p.textContent.trim() === %q)`, url, tryItPath),
		fmt.Sprintf(`"#" + CSS.escape([...document.querySelectorAll(".opblock")].find((o) =>
			o.querySelector(".opblock-summary-path").textContent.trim() === %q).id)`, tryItPath))
	do(t, b, "try it out",
		chromedp.Click(chromedp.CSS(block+" .opblock-summary-control")),
		chromedp.Click(chromedp.CSS(block+" .try-out__btn")),
		chromedp.SendKeys(chromedp.CSS(block+` tr[data-param-name="name"] input`), "Ada"),
		chromedp.SendKeys(chromedp.CSS(block+` tr[data-param-name="times"] input`), "2"),
		chromedp.Click(chromedp.CSS(block+" .execute")))
	shown := page[map[string]string](t, b, fmt.Sprintf(`document.querySelector(%q)`, block+" .live-responses-table tr.response .response-col_status"),
		fmt.Sprintf(`({status: document.querySelector(%[1]q).textContent.trim(),
			body: document.querySelector(%[2]q).textContent,
			url: document.querySelector(%[3]q).textContent.trim()})`,
			block+" .live-responses-table tr.response .response-col_status", block+" .live-responses-table tr.response .response-col_description pre",
			block+" .request-url pre"))

	code, direct, err := get("http://" + srv.gateway + "/greetings/Ada?times=2")
	if err != nil || code != http.StatusOK || !sameJSON(direct, `"Hello, Ada Hello, Ada"`) {
		t.Fatalf("the gateway answers GET /greetings/Ada?times=2 with %d %s %v", code, direct, err)
	}
	if shown["status"] != strconv.Itoa(code) || !sameJSON(shown["body"], direct) {
		t.Errorf("Swagger UI shows %s %q, the provider's answer through the gateway is %d %s", shown["status"], shown["body"], code, direct)
	}
	if want := "http://" + srv.admin + "/gateway/greetings/Ada?times=2"; shown["url"] != want {
		t.Errorf("Swagger UI sent the request to %s, want %s (the admin address's forward)", shown["url"], want)
	}
	b.Screenshot(t, "console-tryit.png")
}

// checkLivePage compares the live figures of the try-it route with GET /api/v1/stats (no
// traffic runs meanwhile, so the totals must agree).
func checkLivePage(t *testing.T, b *browser.Browser, srv *running) {
	var gw struct {
		Routes []struct {
			Name  string
			Match struct{ PathTemplate string }
		}
	}
	apiGet(t, srv, "/api/v1/routes", &gw)
	route := ""
	for _, r := range gw.Routes {
		if r.Match.PathTemplate == tryItPath {
			route = r.Name
		}
	}
	if route == "" {
		t.Fatalf("no route with template %s", tryItPath)
	}
	open(t, b, srv, "live", `document.querySelector("#live-routes[data-loaded]")`)
	row := fmt.Sprintf(`#live-routes tr[data-route=%q]`, route)
	shown := page[map[string]string](t, b, fmt.Sprintf(`document.querySelector(%q)`, row), fmt.Sprintf(`Object.fromEntries(
		[...document.querySelectorAll(%q)].map((td) => [td.dataset.field, td.textContent]))`, row+" td[data-field]"))
	var stats struct {
		Routes []struct {
			Route    string
			Total    int
			Requests int
			P50      *float64 `json:"p50Seconds"`
		}
	}
	apiGet(t, srv, "/api/v1/stats", &stats)
	for _, f := range stats.Routes {
		if f.Route != route {
			continue
		}
		if shown["total"] != strconv.Itoa(f.Total) || f.Total < 2 {
			t.Errorf("the live page shows total %s for %s, the API %d (want at least the two calls made)", shown["total"], route, f.Total)
		}
		if f.P50 == nil || strings.TrimSpace(shown["p50"]) == "–" {
			t.Errorf("no p50 for a route with %d requests in the window: API %v, page %q", f.Requests, f.P50, shown["p50"])
		}
		b.Screenshot(t, "console-live.png")
		return
	}
	t.Errorf("GET /api/v1/stats has no figures for %s", route)
}
