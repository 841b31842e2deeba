package livestats

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fixture is a registry with a histogram shaped like the gateway's, and a Sampler over it.
type fixture struct {
	hist    *prometheus.HistogramVec
	clock   *clock
	sampler *Sampler
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	reg := prometheus.NewRegistry()
	f := &fixture{
		hist: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "req_seconds", Help: "h",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.1, 1}}, []string{"route", "cluster", "class"}),
		clock: &clock{t: time.Unix(1_000_000, 0)},
	}
	reg.MustRegister(f.hist)
	s, err := New(Options{Gatherer: reg, Metric: "req_seconds", RouteLabel: "route", ClusterLabel: "cluster", StatusClassLabel: "class",
		Interval: 5 * time.Second, Window: time.Minute, Now: f.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	f.sampler = s
	return f
}

func (f *fixture) observe(route, cluster, class string, seconds float64, n int) {
	for range n {
		f.hist.WithLabelValues(route, cluster, class).Observe(seconds)
	}
}

func (f *fixture) summary(t *testing.T) Summary {
	t.Helper()
	s, err := f.sampler.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatalf("the summary does not encode as JSON: %v", err)
	}
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestFiguresOfAWindow(t *testing.T) {
	f := newFixture(t)
	f.observe("r1", "c1", "2xx", 0.003, 10) // before the window: in totals only
	f.clock.t = f.clock.t.Add(5 * time.Second)
	if err := f.sampler.Record(); err != nil {
		t.Fatal(err)
	}
	f.clock.t = f.clock.t.Add(60 * time.Second)
	if err := f.sampler.Record(); err != nil {
		t.Fatal(err)
	}
	// The window: 90 fast successes and 10 slow errors on r1, 20 on r2 (same cluster), 5 unrouted.
	f.observe("r1", "c1", "2xx", 0.003, 90)
	f.observe("r1", "c1", "5xx", 0.5, 10)
	f.observe("r2", "c1", "2xx", 0.0005, 20)
	f.observe("", "", "4xx", 0.0005, 5)
	f.clock.t = f.clock.t.Add(20 * time.Second)

	s := f.summary(t)
	if s.WindowSeconds != 80 {
		t.Fatalf("window = %vs, want 80 (from the sample 60 s or more ago)", s.WindowSeconds)
	}
	if len(s.Routes) != 3 || s.Routes[0].Route != "" || s.Routes[1].Route != "r1" || s.Routes[2].Route != "r2" {
		t.Fatalf("routes = %+v", s.Routes)
	}
	r1 := s.Routes[1]
	if r1.Requests != 100 || r1.Errors != 10 || r1.Total != 110 || !near(r1.RatePerSecond, 100.0/80) || !near(r1.ErrorRatio, 0.1) {
		t.Errorf("r1 = %+v", r1)
	}
	// p50: rank 50 of 100, all 90 fast ones in (0.0025, 0.005]: 0.0025 + 0.0025*50/90.
	// p99: rank 99 falls in (0.1, 1] holding the 10 slow ones above 90: 0.1 + 0.9*9/10.
	if r1.P50Seconds == nil || !near(*r1.P50Seconds, 0.0025+0.0025*50/90) || r1.P99Seconds == nil || !near(*r1.P99Seconds, 0.1+0.9*9/10) {
		t.Errorf("r1 quantiles p50 %v p99 %v", deref(r1.P50Seconds), deref(r1.P99Seconds))
	}
	if len(s.Upstreams) != 1 || s.Upstreams[0].Cluster != "c1" || s.Upstreams[0].Requests != 120 || s.Upstreams[0].Errors != 10 || s.Upstreams[0].Total != 130 {
		t.Errorf("upstreams = %+v (the unrouted requests belong to no upstream)", s.Upstreams)
	}
	// p50 of r2: all in the lowest bucket, interpolated from 0: 0.001 * 10/20.
	if r2 := s.Routes[2]; r2.P50Seconds == nil || !near(*r2.P50Seconds, 0.0005) {
		t.Errorf("r2 p50 = %v", deref(r2.P50Seconds))
	}
}

func TestQuietWindowAndOverflow(t *testing.T) {
	f := newFixture(t)
	f.observe("r1", "c1", "2xx", 5, 4) // beyond the highest bucket (1 s)
	f.clock.t = f.clock.t.Add(10 * time.Second)
	s := f.summary(t)
	if r := s.Routes[0]; r.P99Seconds == nil || *r.P99Seconds != 1 {
		t.Errorf("a quantile beyond the highest bucket = %v, want its upper bound 1", deref(r.P99Seconds))
	}
	if err := f.sampler.Record(); err != nil {
		t.Fatal(err)
	}
	f.clock.t = f.clock.t.Add(time.Minute)
	if err := f.sampler.Record(); err != nil {
		t.Fatal(err)
	}
	s = f.summary(t)
	if r := s.Routes[0]; r.Requests != 0 || r.Total != 4 || r.RatePerSecond != 0 || r.P50Seconds != nil {
		t.Errorf("a window without requests = %+v", r)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
