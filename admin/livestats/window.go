package livestats

import (
	"math"
	"sort"
	"time"
)

// Summary is the figures of one window.
type Summary struct {
	// WindowSeconds is the span the figures cover (0 when there is only one sample).
	WindowSeconds float64 `json:"windowSeconds"`
	// Routes are per route (and the cluster it called), sorted by route then cluster; the route
	// "" counts requests that matched no route.
	Routes []Figures `json:"routes"`
	// Upstreams are per cluster over all routes, sorted by cluster.
	Upstreams []Figures `json:"upstreams"`
}

// Figures describe the requests of one route or upstream.
type Figures struct {
	Route   string `json:"route,omitempty"`
	Cluster string `json:"cluster"`
	// Requests and Errors (status 5xx) are counted within the window; Total since the start.
	Requests uint64 `json:"requests"`
	Errors   uint64 `json:"errors"`
	Total    uint64 `json:"total"`
	// RatePerSecond is Requests over the window; ErrorRatio is Errors / Requests (0 without
	// requests).
	RatePerSecond float64 `json:"ratePerSecond"`
	ErrorRatio    float64 `json:"errorRatio"`
	// P50Seconds and P99Seconds are latency quantiles estimated from the histogram's buckets
	// within the window; null without requests in the window.
	P50Seconds *float64 `json:"p50Seconds"`
	P99Seconds *float64 `json:"p99Seconds"`
}

// seriesKey identifies one series of the histogram.
type seriesKey struct{ route, cluster, class string }

// bucket is one cumulative bucket; the +Inf bucket is not listed (its count is the total).
type bucket struct {
	upper      float64
	cumulative uint64
}

type histogram struct {
	count   uint64
	buckets []bucket
}

// sample is the histogram's state at one moment.
type sample struct {
	at     time.Time
	series map[seriesKey]histogram
}

// Between computes the figures of the requests observed after from and up to to.
func Between(from, to sample) Summary {
	type acc struct {
		delta, total histogram
		errors       uint64
	}
	routes, upstreams := map[seriesKey]*acc{}, map[string]*acc{}
	add := func(a *acc, d, total histogram, class string) {
		a.delta = plus(a.delta, d)
		a.total = plus(a.total, total)
		if class == "5xx" {
			a.errors += d.count
		}
	}
	for key, cur := range to.series {
		d := minus(cur, from.series[key])
		rk := seriesKey{route: key.route, cluster: key.cluster}
		if routes[rk] == nil {
			routes[rk] = &acc{}
		}
		add(routes[rk], d, cur, key.class)
		if key.cluster != "" {
			if upstreams[key.cluster] == nil {
				upstreams[key.cluster] = &acc{}
			}
			add(upstreams[key.cluster], d, cur, key.class)
		}
	}
	seconds := to.at.Sub(from.at).Seconds()
	figures := func(route, cluster string, a *acc) Figures {
		f := Figures{Route: route, Cluster: cluster, Requests: a.delta.count, Errors: a.errors, Total: a.total.count}
		if seconds > 0 {
			f.RatePerSecond = float64(f.Requests) / seconds
		}
		if f.Requests > 0 {
			f.ErrorRatio = float64(f.Errors) / float64(f.Requests)
			if p50, p99 := quantile(0.5, a.delta), quantile(0.99, a.delta); !math.IsNaN(p50) && !math.IsNaN(p99) {
				f.P50Seconds, f.P99Seconds = &p50, &p99
			}
		}
		return f
	}
	out := Summary{WindowSeconds: seconds, Routes: []Figures{}, Upstreams: []Figures{}}
	for k, a := range routes {
		out.Routes = append(out.Routes, figures(k.route, k.cluster, a))
	}
	for c, a := range upstreams {
		out.Upstreams = append(out.Upstreams, figures("", c, a))
	}
	sort.Slice(out.Routes, func(i, j int) bool {
		a, b := out.Routes[i], out.Routes[j]
		return a.Route < b.Route || a.Route == b.Route && a.Cluster < b.Cluster
	})
	sort.Slice(out.Upstreams, func(i, j int) bool { return out.Upstreams[i].Cluster < out.Upstreams[j].Cluster })
	return out
}

// minus is cur - old, bucket by bucket; a series that went down was reset, so cur counts from 0.
func minus(cur, old histogram) histogram {
	if old.count > cur.count || len(old.buckets) != len(cur.buckets) {
		return cur
	}
	out := histogram{count: cur.count - old.count, buckets: make([]bucket, len(cur.buckets))}
	for i, b := range cur.buckets {
		if old.buckets[i].cumulative > b.cumulative {
			return cur
		}
		out.buckets[i] = bucket{upper: b.upper, cumulative: b.cumulative - old.buckets[i].cumulative}
	}
	return out
}

// plus adds two histograms of the same buckets (an empty one takes the other's).
func plus(a, b histogram) histogram {
	if len(a.buckets) == 0 {
		return histogram{count: a.count + b.count, buckets: append([]bucket(nil), b.buckets...)}
	}
	out := histogram{count: a.count + b.count, buckets: append([]bucket(nil), a.buckets...)}
	for i := range out.buckets {
		if i < len(b.buckets) {
			out.buckets[i].cumulative += b.buckets[i].cumulative
		}
	}
	return out
}

// quantile estimates the q-quantile as Prometheus's histogram_quantile() does: find the bucket
// holding rank q·count and interpolate linearly within it (the lowest bucket starts at 0); a rank
// beyond the highest finite bucket gives that bucket's upper bound.
// https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile
func quantile(q float64, h histogram) float64 {
	rank := q * float64(h.count)
	lower, below := 0.0, uint64(0)
	for _, b := range h.buckets {
		if float64(b.cumulative) >= rank && b.cumulative > below {
			return lower + (b.upper-lower)*(rank-float64(below))/float64(b.cumulative-below)
		}
		lower, below = b.upper, b.cumulative
	}
	if len(h.buckets) == 0 {
		return math.NaN()
	}
	return h.buckets[len(h.buckets)-1].upper
}
