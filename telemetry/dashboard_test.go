package telemetry

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboardFile is the Grafana dashboard shipped in deploy/.
const dashboardFile = "../deploy/grafana/rpcbridge.json"

// dashboard is the part of Grafana's dashboard model the test reads.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Type       string  `json:"type"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"` // a collapsed row's
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

var (
	metricRE   = regexp.MustCompile(`\brpcbridge_[a-z0-9_]+`)
	selectorRE = regexp.MustCompile(`\b(rpcbridge_[a-z0-9_]+)\{([^}]*)\}`)
	matcherRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
	groupingRE = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
)

// targetLabels are the labels Prometheus adds to every scraped series.
var targetLabels = []string{"job", "instance"}

// TestDashboardQueriesNameListedMetrics decodes the Grafana dashboard and checks every query:
// each metric it names is in Metrics() (a histogram through its _bucket, _sum or _count
// series), each label it selects or groups by is one of that metric's (or le, job, instance),
// and every listed metric is on some panel.
func TestDashboardQueriesNameListedMetrics(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" || d.SchemaVersion == 0 {
		t.Errorf("%s lacks a title, uid or schemaVersion", dashboardFile)
	}
	if !slices.ContainsFunc(d.Templating.List, func(v struct {
		Name string `json:"name"`
	}) bool {
		return v.Name == "datasource"
	}) {
		t.Errorf("%s has no datasource variable: it would be tied to one Grafana's data source", dashboardFile)
	}
	listed := map[string]Metric{}
	for _, m := range Metrics() {
		listed[m.Name] = m
	}
	shown := map[string]bool{}
	queries := 0
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if p.Title == "" || len(p.Targets) == 0 {
				t.Errorf("panel %q (%s) has no title or no query", p.Title, p.Type)
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q does not use the ${datasource} variable", p.Title)
			}
			for _, target := range p.Targets {
				queries++
				for _, name := range checkQuery(t, p.Title, target.Expr, listed) {
					shown[name] = true
				}
			}
		}
	}
	walk(d.Panels)
	if queries == 0 {
		t.Fatalf("%s has no queries", dashboardFile)
	}
	for name := range listed {
		if !shown[name] {
			t.Errorf("%s is on no panel of the dashboard", name)
		}
	}
}

// checkQuery reports the problems of one PromQL expression and returns the metrics it reads.
func checkQuery(t *testing.T, panel, expr string, listed map[string]Metric) []string {
	t.Helper()
	var names []string
	labels := map[string]bool{}
	for _, l := range targetLabels {
		labels[l] = true
	}
	for _, series := range metricRE.FindAllString(expr, -1) {
		m, ok := metricOfSeries(series, listed)
		if !ok {
			t.Errorf("panel %q: %s names %s, which is not in Metrics()", panel, expr, series)
			continue
		}
		names = append(names, m.Name)
		for _, l := range m.LabelNames() {
			labels[l] = true
		}
		if m.Kind == KindHistogram && strings.HasSuffix(series, "_bucket") {
			labels["le"] = true
		}
	}
	for _, sel := range selectorRE.FindAllStringSubmatch(expr, -1) {
		m, ok := metricOfSeries(sel[1], listed)
		if !ok {
			continue
		}
		own := append(m.LabelNames(), targetLabels...)
		for _, matcher := range matcherRE.FindAllStringSubmatch(sel[2], -1) {
			if !slices.Contains(own, matcher[1]) {
				t.Errorf("panel %q: %s selects label %q, which %s does not have", panel, expr, matcher[1], m.Name)
			}
		}
	}
	for _, g := range groupingRE.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !labels[l] {
				t.Errorf("panel %q: %s groups by %q, a label of none of its metrics", panel, expr, l)
			}
		}
	}
	return names
}

// metricOfSeries maps a series name to its metric: itself, or a histogram's _bucket, _sum or
// _count series.
func metricOfSeries(series string, listed map[string]Metric) (Metric, bool) {
	if m, ok := listed[series]; ok {
		return m, m.Kind != KindHistogram
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(series, suffix); ok {
			if m, ok := listed[base]; ok && m.Kind == KindHistogram {
				return m, true
			}
		}
	}
	return Metric{}, false
}
