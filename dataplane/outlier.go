package dataplane

import (
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// The outlier detection of the embedded gateway follows Envoy's consecutive-error detection
// (source/common/upstream/outlier_detection_impl.cc; docs: intro/arch_overview/upstream/outlier):
// each attempt's outcome goes to its host as an HTTP status or a local-origin result; a host
// with ConsecutiveGatewayFailure 502/503/504 answers in a row, Consecutive5xx 5xx answers, or
// (with split_external_local_origin_errors) ConsecutiveLocalOriginFailure connect failures and
// timeouts, is ejected with the enforcing percentage as its chance, provided that the ejected
// share of the cluster, counting it, stays within MaxEjectionPercent (or it is the first one and
// AlwaysEjectOneHost is set). The n-th ejection lasts min(n × BaseEjectionTime,
// MaxEjectionTime); ejected hosts return at the first interval tick after that; every tick a
// host spends back in service after the first interval lowers n by one.
//
// Envoy runs the interval on a timer; the gateway runs the ticks that are due whenever the
// cluster is used (sweep), in order and with their own times, so that the outcome is the same
// without a goroutine per cluster.

// result is a local-origin or non-HTTP outcome of an attempt (Envoy's Outlier::Result).
type result int

const (
	// localOriginConnectSuccess: the attempt got a connection (Envoy's onPoolReady).
	localOriginConnectSuccess result = iota
	// localOriginTimeout: the attempt timed out waiting for its answer or its connection.
	localOriginTimeout
	// localOriginConnectFailed: no connection, or it was reset or closed under the attempt.
	localOriginConnectFailed
	// extOriginRequestFailed and extOriginRequestSuccess: a non-HTTP upstream (Dubbo) answered
	// with a failure (an exception, a server error status) or normally.
	extOriginRequestFailed
	extOriginRequestSuccess
)

// The ejection kinds, as Envoy's OutlierEjectionType names them in its stats.
const (
	ejectConsecutive5xx            = "consecutive_5xx"
	ejectConsecutiveGatewayFailure = "consecutive_gateway_failure"
	ejectConsecutiveLocalOrigin    = "consecutive_local_origin_failure"
)

// hostOutlier is the detector's state of one host, guarded by detector.mu.
type hostOutlier struct {
	consecutive5xx, consecutiveGateway, consecutiveLocal int
	// backoff multiplies BaseEjectionTime (Envoy's ejectTimeBackoff).
	backoff                  int
	lastEjection, lastReturn time.Time // zero: never
}

// detector is the outlier detection of one cluster.
type detector struct {
	cluster string
	metrics *metrics
	logger  *slog.Logger
	now     func() time.Time // time.Now; tests set a clock of their own

	mu       sync.Mutex
	cfg      routetable.OutlierDetection
	hosts    []*host
	ejected  int
	lastTick time.Time
	nextTick atomic.Int64 // unix nanoseconds of the next tick, read without the lock
}

func newDetector(cluster string, cfg routetable.OutlierDetection, hosts []*host, m *metrics, logger *slog.Logger) *detector {
	d := &detector{cluster: cluster, metrics: m, logger: logger, now: time.Now, cfg: cfg, hosts: hosts}
	d.lastTick = d.now()
	for _, h := range hosts {
		h.ejected.Store(false)
		h.od = hostOutlier{}
	}
	d.nextTick.Store(d.lastTick.Add(cfg.Interval).UnixNano())
	m.ejectionsActive.WithLabelValues(cluster).Set(0)
	return d
}

// update gives the detector a new configuration and host set, as Envoy does on an endpoint
// update: new hosts start clean, removed ones stop counting as ejected. It returns d.
func (d *detector) update(cfg routetable.OutlierDetection, hosts []*host) *detector {
	d.mu.Lock()
	defer d.mu.Unlock()
	known := map[*host]bool{}
	for _, h := range d.hosts {
		known[h] = true
	}
	d.ejected = 0
	for _, h := range hosts {
		if !known[h] {
			h.ejected.Store(false)
			h.od = hostOutlier{}
		}
		if h.ejected.Load() {
			d.ejected++
		}
	}
	d.cfg, d.hosts = cfg, hosts
	d.nextTick.Store(d.lastTick.Add(cfg.Interval).UnixNano())
	d.metrics.ejectionsActive.WithLabelValues(d.cluster).Set(float64(d.ejected))
	return d
}

func (d *detector) config() routetable.OutlierDetection {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// sweep runs the interval ticks that are due.
func (d *detector) sweep() {
	now := d.now()
	if now.UnixNano() < d.nextTick.Load() {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweepLocked(now)
}

// sweepLocked runs every tick up to now, each at its own time (Envoy's onIntervalTimer).
func (d *detector) sweepLocked(now time.Time) {
	for {
		tick := d.lastTick.Add(d.cfg.Interval)
		if tick.After(now) {
			break
		}
		if d.idle() { // nothing left to change: skip the remaining ticks at once
			d.lastTick = d.lastTick.Add(now.Sub(d.lastTick) / d.cfg.Interval * d.cfg.Interval)
			break
		}
		d.lastTick = tick
		for _, h := range d.hosts {
			d.checkReturn(h, tick)
		}
		for _, h := range d.hosts {
			if !h.ejected.Load() && !h.od.lastReturn.IsZero() && tick.Sub(h.od.lastReturn) >= d.cfg.Interval && h.od.backoff > 0 {
				h.od.backoff--
			}
		}
	}
	d.nextTick.Store(d.lastTick.Add(d.cfg.Interval).UnixNano())
}

// idle reports whether no tick can change anything: nothing ejected, no backoff to lower.
func (d *detector) idle() bool {
	if d.ejected > 0 {
		return false
	}
	for _, h := range d.hosts {
		if h.od.backoff > 0 {
			return false
		}
	}
	return true
}

// checkReturn returns an ejected host to service once min(base × backoff, max) has passed
// (Envoy's checkHostForUneject and unejectHost, which also resets the consecutive counters).
func (d *detector) checkReturn(h *host, now time.Time) {
	if !h.ejected.Load() {
		return
	}
	eject := min(d.cfg.BaseEjectionTime*time.Duration(h.od.backoff), d.cfg.MaxEjectionTime)
	if now.Sub(h.od.lastEjection) < eject {
		return
	}
	h.ejected.Store(false)
	d.ejected--
	h.od.consecutive5xx, h.od.consecutiveGateway, h.od.consecutiveLocal = 0, 0, 0
	h.od.lastReturn = now
	d.metrics.ejectionsActive.WithLabelValues(d.cluster).Set(float64(d.ejected))
	d.logger.Info("endpoint back from outlier ejection", "cluster", d.cluster, "endpoint", h.addr)
}

// putHTTPStatus records an attempt that ended with an HTTP status (Envoy's putHttpResponseCode).
func (d *detector) putHTTPStatus(h *host, code int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweepLocked(d.now())
	d.putStatusLocked(h, code)
}

func (d *detector) putStatusLocked(h *host, code int) {
	if code < 500 || code > 599 {
		h.od.consecutive5xx, h.od.consecutiveGateway = 0, 0
		return
	}
	if code >= 502 && code <= 504 {
		h.od.consecutiveGateway++
		if h.od.consecutiveGateway == d.cfg.ConsecutiveGatewayFailure {
			d.consecutiveError(h, ejectConsecutiveGatewayFailure)
		}
	} else {
		h.od.consecutiveGateway = 0
	}
	h.od.consecutive5xx++
	if h.od.consecutive5xx == d.cfg.Consecutive5xx {
		d.consecutiveError(h, ejectConsecutive5xx)
	}
}

// putResult records a local-origin or non-HTTP outcome (Envoy's putResult): without
// split_external_local_origin_errors as the HTTP status Envoy maps it to (timeout 504, connect
// failure 503, external failure 500, external success 200); with it, local-origin outcomes go to
// their own counter and an external failure counts as a 503.
func (d *detector) putResult(h *host, r result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sweepLocked(d.now())
	if !d.cfg.SplitExternalLocalOriginErrors {
		switch r {
		case localOriginTimeout:
			d.putStatusLocked(h, 504)
		case localOriginConnectFailed:
			d.putStatusLocked(h, 503)
		case extOriginRequestFailed:
			d.putStatusLocked(h, 500)
		case extOriginRequestSuccess:
			d.putStatusLocked(h, 200)
		}
		return
	}
	switch r {
	case localOriginConnectSuccess:
		h.od.consecutiveLocal = 0
	case localOriginTimeout, localOriginConnectFailed:
		h.od.consecutiveLocal++
		if h.od.consecutiveLocal == d.cfg.ConsecutiveLocalOriginFailure {
			d.consecutiveError(h, ejectConsecutiveLocalOrigin)
		}
	case extOriginRequestFailed:
		d.putStatusLocked(h, 503)
	case extOriginRequestSuccess:
		d.putStatusLocked(h, 200)
		h.od.consecutiveLocal = 0
	}
}

// consecutiveError handles a host that reached a consecutive-error threshold (Envoy's
// onConsecutiveErrorWorker and ejectHost): eject it if the max ejection percent allows and the
// enforcing percentage says so, then reset that counter.
func (d *detector) consecutiveError(h *host, kind string) {
	if h.ejected.Load() {
		return
	}
	ejectedShare := 100 * float64(d.ejected+1) / float64(len(d.hosts))
	allowed := ejectedShare <= float64(d.cfg.MaxEjectionPercent) || (d.cfg.AlwaysEjectOneHost && d.ejected == 0)
	switch {
	case !allowed:
		d.metrics.ejectionsOverflow.WithLabelValues(d.cluster).Inc()
	case rand.IntN(100) < d.enforcing(kind):
		d.eject(h, kind)
	}
	switch kind {
	case ejectConsecutive5xx:
		h.od.consecutive5xx = 0
	case ejectConsecutiveGatewayFailure:
		h.od.consecutiveGateway = 0
	case ejectConsecutiveLocalOrigin:
		h.od.consecutiveLocal = 0
	}
}

func (d *detector) enforcing(kind string) int {
	switch kind {
	case ejectConsecutive5xx:
		return d.cfg.EnforcingConsecutive5xx
	case ejectConsecutiveGatewayFailure:
		return d.cfg.EnforcingConsecutiveGatewayFailure
	}
	return d.cfg.EnforcingConsecutiveLocalOriginFailure
}

// eject takes h out of load balancing; its backoff grows while base × backoff stays below
// max + base (Envoy's ejectHost).
func (d *detector) eject(h *host, kind string) {
	h.ejected.Store(true)
	d.ejected++
	h.od.lastEjection = d.now()
	if d.cfg.BaseEjectionTime*time.Duration(h.od.backoff) < d.cfg.MaxEjectionTime+d.cfg.BaseEjectionTime {
		h.od.backoff++
	}
	d.metrics.ejectionsActive.WithLabelValues(d.cluster).Set(float64(d.ejected))
	d.metrics.ejections.WithLabelValues(d.cluster, kind).Inc()
	d.logger.Warn("endpoint ejected by outlier detection", "cluster", d.cluster, "endpoint", h.addr, "detection", kind,
		"for", min(d.cfg.BaseEjectionTime*time.Duration(h.od.backoff), d.cfg.MaxEjectionTime))
}
