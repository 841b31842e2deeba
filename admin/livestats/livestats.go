// Package livestats turns the gateway's request-duration histogram, as the process's own
// Prometheus registry gathers it, into the live figures the admin console shows per route and
// per upstream cluster: request rate, error ratio (5xx), p50 and p99 latency over a recent
// window.
//
// The window is kept server-side: a Sampler gathers the histogram every Interval and keeps the
// samples of the last Window; a summary compares a fresh gathering with the sample taken a
// Window ago (or the oldest one, early on), the way Prometheus's rate() and histogram_quantile()
// compare two points of a counter. So every client — the console, a script — gets the same
// figures from one GET, without keeping state of its own.
package livestats

import (
	"context"
	"fmt"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Gatherer is what a Prometheus registry offers (prometheus.Gatherer): the current state of its
// metrics. Taking the interface keeps this package off client_golang.
type Gatherer interface {
	Gather() ([]*dto.MetricFamily, error)
}

// Options configure a Sampler.
type Options struct {
	// Gatherer is the registry holding the histogram.
	Gatherer Gatherer
	// Metric is the histogram's name; RouteLabel, ClusterLabel and StatusClassLabel name its
	// labels (the status class values are "2xx" ... "5xx").
	Metric, RouteLabel, ClusterLabel, StatusClassLabel string
	// Interval is how often Run samples (default 5s); Window is the span the figures cover
	// (default 1m).
	Interval, Window time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Sampler keeps the recent samples of the histogram. It is safe for concurrent use.
type Sampler struct {
	opts Options

	mu      sync.Mutex
	samples []sample // oldest first
}

// New returns a Sampler whose first sample is taken now.
func New(opts Options) (*Sampler, error) {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.Window <= 0 {
		opts.Window = time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sampler{opts: opts}
	if err := s.Record(); err != nil {
		return nil, err
	}
	return s, nil
}

// Run records a sample every Interval until ctx ends; a failed gathering is skipped.
func (s *Sampler) Run(ctx context.Context) error {
	tick := time.NewTicker(s.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			_ = s.Record()
		}
	}
}

// Record gathers a sample now and forgets the samples that no window needs any more.
func (s *Sampler) Record() error {
	now, err := s.gather()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples = append(s.samples, now)
	cutoff := now.at.Add(-s.opts.Window)
	for len(s.samples) > 1 && !s.samples[1].at.After(cutoff) {
		s.samples = s.samples[1:]
	}
	return nil
}

// Summary gathers the histogram now and returns the figures since the sample a Window ago (or
// the oldest kept one).
func (s *Sampler) Summary() (Summary, error) {
	now, err := s.gather()
	if err != nil {
		return Summary{}, err
	}
	s.mu.Lock()
	base := s.samples[0]
	cutoff := now.at.Add(-s.opts.Window)
	for _, old := range s.samples {
		if !old.at.After(cutoff) {
			base = old
		}
	}
	s.mu.Unlock()
	return Between(base, now), nil
}

// gather reads the histogram's current state.
func (s *Sampler) gather() (sample, error) {
	families, err := s.opts.Gatherer.Gather()
	if err != nil {
		return sample{}, fmt.Errorf("gather metrics: %w", err)
	}
	out := sample{at: s.opts.Now(), series: map[seriesKey]histogram{}}
	for _, f := range families {
		if f.GetName() != s.opts.Metric {
			continue
		}
		for _, m := range f.GetMetric() {
			var key seriesKey
			for _, l := range m.GetLabel() {
				switch l.GetName() {
				case s.opts.RouteLabel:
					key.route = l.GetValue()
				case s.opts.ClusterLabel:
					key.cluster = l.GetValue()
				case s.opts.StatusClassLabel:
					key.class = l.GetValue()
				}
			}
			h := m.GetHistogram()
			hist := histogram{count: h.GetSampleCount()}
			for _, b := range h.GetBucket() {
				hist.buckets = append(hist.buckets, bucket{upper: b.GetUpperBound(), cumulative: b.GetCumulativeCount()})
			}
			out.series[key] = hist
		}
	}
	return out, nil
}
