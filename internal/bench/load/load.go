// Package load generates open-loop, fixed-rate load that interleaves several targets, for
// latency benchmarks that compare them within one run.
//
// Each tick of a fixed schedule sends one request to the next target in turn (target 0, 1, …,
// n-1, 0, …), so every target's requests are spread over the same time windows and see the
// same background noise. The load is open loop: every request runs on its own goroutine, so a
// slow answer never delays the next send, and a request's latency is measured from its
// scheduled send time, not from when it was actually sent (a late scheduler counts against the
// latency instead of hiding it: no coordinated omission).
//
// Summarize turns a Recording into per-target p50/p99, the latency each target adds to the
// first one (the baseline) at the same percentile, and the spread of the added p99 over
// consecutive windows of the run.
package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Target is one destination of the load.
type Target struct {
	// Name labels the target in summaries.
	Name string
	// Send makes one request and returns when its answer has been received and checked.
	// seq numbers the target's own requests 0, 1, 2, … (e.g. to alternate request kinds).
	Send func(ctx context.Context, seq int) error
}

// Options shape the load.
type Options struct {
	// Rate is the number of requests per second over all targets together.
	Rate float64
	// PerTarget is the number of requests each target receives.
	PerTarget int
}

// Sample is one request of a Recording.
type Sample struct {
	// Target is the index of the target the request went to.
	Target int
	// Scheduled is the request's scheduled send time, relative to the start of the run.
	Scheduled time.Duration
	// Latency runs from the scheduled send time to the end of Send.
	Latency time.Duration
	// Lag is how late Send began after the scheduled time: a large lag means the generator
	// itself (or the whole machine) was held up, which counts in every target's latency.
	Lag time.Duration
	// Err is what Send returned.
	Err error
}

// Recording is the outcome of Generate.
type Recording struct {
	// Names are the targets' names, by index.
	Names []string
	// Interval is the time between two consecutive scheduled sends.
	Interval time.Duration
	// Start is when the first request was scheduled.
	Start time.Time
	// Samples holds every request in schedule order: Samples[i] went to target i % len(Names).
	Samples []Sample
}

// Span is the scheduled length of the run: the number of requests times the interval.
func (r *Recording) Span() time.Duration { return time.Duration(len(r.Samples)) * r.Interval }

// Errors returns the number of failed requests per target and the first failure.
func (r *Recording) Errors() ([]int, error) {
	counts := make([]int, len(r.Names))
	var first error
	for _, s := range r.Samples {
		if s.Err != nil {
			counts[s.Target]++
			if first == nil {
				first = fmt.Errorf("%s: %w", r.Names[s.Target], s.Err)
			}
		}
	}
	return counts, first
}

// Generate sends opts.PerTarget requests to each target at opts.Rate requests per second
// overall, interleaved, and waits for every answer. It stops scheduling when ctx ends and
// returns ctx's error then (with the requests sent so far).
func Generate(ctx context.Context, opts Options, targets []Target) (*Recording, error) {
	if len(targets) == 0 || opts.PerTarget <= 0 || opts.Rate <= 0 {
		return nil, errors.New("load: need at least one target, a positive rate and a positive number of requests")
	}
	interval := time.Duration(float64(time.Second) / opts.Rate)
	if interval <= 0 {
		return nil, fmt.Errorf("load: rate %g per second is too high", opts.Rate)
	}
	rec := &Recording{Interval: interval, Samples: make([]Sample, len(targets)*opts.PerTarget)}
	for _, t := range targets {
		rec.Names = append(rec.Names, t.Name)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	var wg sync.WaitGroup
	rec.Start = time.Now()
	var err error
	sent := 0
	for i := range rec.Samples {
		offset := time.Duration(i) * interval
		at := rec.Start.Add(offset)
		if wait := time.Until(at); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			break
		}
		target := i % len(targets)
		wg.Go(func() {
			lag := time.Since(at)
			sendErr := targets[target].Send(ctx, i/len(targets))
			rec.Samples[i] = Sample{Target: target, Scheduled: offset, Latency: time.Since(at), Lag: lag, Err: sendErr}
		})
		sent++
	}
	wg.Wait()
	rec.Samples = rec.Samples[:sent]
	return rec, err
}
