package dataplane

import (
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/rpcbridge/rpcbridge/dataplane/routetable"
)

// clock is a manual time source for the detector.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// testDetector is a detector over n hosts with Envoy's consecutive gateway-failure detection
// enforced (as rpcbridge's RPC defaults have it) and a manual clock.
func testDetector(t *testing.T, n int, edit func(*routetable.OutlierDetection)) (*detector, []*host, *clock, *metrics) {
	t.Helper()
	cfg := routetable.OutlierDetection{Consecutive5xx: 5, EnforcingConsecutive5xx: 0, ConsecutiveGatewayFailure: 5,
		EnforcingConsecutiveGatewayFailure: 100, ConsecutiveLocalOriginFailure: 5, EnforcingConsecutiveLocalOriginFailure: 100,
		Interval: time.Second, BaseEjectionTime: 10 * time.Second, MaxEjectionTime: 25 * time.Second, MaxEjectionPercent: 50}
	if edit != nil {
		edit(&cfg)
	}
	var hosts []*host
	for i := range n {
		hosts = append(hosts, &host{addr: string(rune('a'+i)) + ":1"})
	}
	m := newMetrics(prometheus.NewRegistry(), nil)
	clk := &clock{t: time.Unix(1000, 0)}
	d := newDetector("c", cfg, hosts, m, slog.New(slog.DiscardHandler))
	d.now = clk.now
	d.lastTick = clk.t
	d.nextTick.Store(clk.t.Add(cfg.Interval).UnixNano())
	return d, hosts, clk, m
}

func failGateway(d *detector, h *host, n int) {
	for range n {
		d.putResult(h, localOriginConnectFailed) // a 503 to Envoy without split
	}
}

// TestConsecutiveGatewayFailure: five gateway failures in a row eject; a success or a non-gateway
// 5xx in between resets the count; 5xx answers are counted but not enforced.
func TestConsecutiveGatewayFailure(t *testing.T) {
	d, hosts, _, m := testDetector(t, 2, nil)
	a := hosts[0]
	failGateway(d, a, 4)
	d.putHTTPStatus(a, 200)
	failGateway(d, a, 4)
	d.putHTTPStatus(a, 500) // a 5xx that is not a gateway error resets the gateway count
	failGateway(d, a, 4)
	if a.ejected.Load() {
		t.Fatal("ejected before five consecutive gateway failures")
	}
	for range 10 {
		d.putHTTPStatus(a, 500) // Java exceptions: consecutive 5xx, not enforced
	}
	if a.ejected.Load() {
		t.Fatal("ejected for 5xx answers although enforcing_consecutive_5xx is 0")
	}
	d.putResult(a, localOriginTimeout) // a 504
	failGateway(d, a, 4)
	if !a.ejected.Load() {
		t.Fatal("not ejected after five consecutive gateway failures")
	}
	if got := testutil.ToFloat64(m.ejectionsActive.WithLabelValues("c")); got != 1 {
		t.Errorf("ejections_active = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.ejections.WithLabelValues("c", ejectConsecutiveGatewayFailure)); got != 1 {
		t.Errorf("ejections_total{consecutive_gateway_failure} = %v, want 1", got)
	}
}

// TestMaxEjectionPercent: with 50%, one of two hosts may be ejected but not the second (Envoy
// counts the host about to be ejected); Envoy's default 10% ejects none of two, unless
// always_eject_one_host.
func TestMaxEjectionPercent(t *testing.T) {
	d, hosts, _, m := testDetector(t, 2, nil)
	failGateway(d, hosts[0], 5)
	failGateway(d, hosts[1], 5)
	if !hosts[0].ejected.Load() || hosts[1].ejected.Load() {
		t.Fatalf("ejected = %v %v, want only the first", hosts[0].ejected.Load(), hosts[1].ejected.Load())
	}
	// Both of the second host's detections fired (five 503s are five gateway failures and five
	// 5xx) and both were refused, as in Envoy's ejections_overflow.
	if got := testutil.ToFloat64(m.ejectionsOverflow.WithLabelValues("c")); got != 2 {
		t.Errorf("ejections_overflow = %v, want 2", got)
	}
	d10, hosts10, _, _ := testDetector(t, 2, func(c *routetable.OutlierDetection) { c.MaxEjectionPercent = 10 })
	failGateway(d10, hosts10[0], 5)
	if hosts10[0].ejected.Load() {
		t.Error("Envoy's 10% ejected one of two hosts")
	}
	one, hostsOne, _, _ := testDetector(t, 2, func(c *routetable.OutlierDetection) { c.MaxEjectionPercent = 10; c.AlwaysEjectOneHost = true })
	failGateway(one, hostsOne[0], 5)
	failGateway(one, hostsOne[1], 5)
	if !hostsOne[0].ejected.Load() || hostsOne[1].ejected.Load() {
		t.Error("always_eject_one_host must eject exactly one")
	}
}

// TestEjectionTimeGrowsAndReturns: the first ejection lasts the base time, up to the next interval
// tick; an ejection right after the return lasts twice as long; the multiplier falls by one per
// interval spent back in service; the max ejection time caps it.
func TestEjectionTimeGrowsAndReturns(t *testing.T) {
	d, hosts, clk, _ := testDetector(t, 2, nil)
	a := hosts[0]
	step := func(total time.Duration) { // advance in ticks, sweeping as traffic would
		for end := clk.t.Add(total); clk.t.Before(end); {
			clk.advance(500 * time.Millisecond)
			d.sweep()
		}
	}
	failGateway(d, a, 5)
	step(9500 * time.Millisecond)
	if !a.ejected.Load() {
		t.Fatal("returned before the base ejection time")
	}
	step(time.Second)
	if a.ejected.Load() {
		t.Fatal("not returned at the first tick after the base ejection time")
	}
	failGateway(d, a, 5) // ejected again at once: 2 × base
	step(19 * time.Second)
	if !a.ejected.Load() {
		t.Fatal("second ejection shorter than 2 × base")
	}
	step(2 * time.Second)
	if a.ejected.Load() {
		t.Fatal("second ejection longer than 2 × base (+ a tick)")
	}
	step(time.Minute) // the multiplier decays back to 0 while in service
	if a.od.backoff != 0 {
		t.Errorf("backoff = %d after a minute in service, want 0", a.od.backoff)
	}
	for range 4 { // ejected again and again without time in service: capped at max 25 s
		failGateway(d, a, 5)
		step(26 * time.Second)
		if a.ejected.Load() {
			t.Fatalf("ejection longer than max_ejection_time (backoff %d)", a.od.backoff)
		}
	}
}

// TestSplitLocalOrigin: with split_external_local_origin_errors, connect failures and timeouts
// count apart and a connection success resets them; an external failure counts as a 503.
func TestSplitLocalOrigin(t *testing.T) {
	d, hosts, _, m := testDetector(t, 2, func(c *routetable.OutlierDetection) { c.SplitExternalLocalOriginErrors = true })
	a := hosts[0]
	for range 4 {
		d.putResult(a, localOriginTimeout)
	}
	d.putResult(a, localOriginConnectSuccess)
	for range 4 {
		d.putResult(a, localOriginConnectFailed)
	}
	if a.ejected.Load() {
		t.Fatal("ejected although a connection success came between the failures")
	}
	d.putResult(a, localOriginConnectFailed)
	if !a.ejected.Load() || testutil.ToFloat64(m.ejections.WithLabelValues("c", ejectConsecutiveLocalOrigin)) != 1 {
		t.Fatal("not ejected for five local-origin failures")
	}
	d2, hosts2, _, _ := testDetector(t, 2, func(c *routetable.OutlierDetection) { c.SplitExternalLocalOriginErrors = true })
	for range 5 {
		d2.putResult(hosts2[0], extOriginRequestFailed) // Envoy: an external failure is a 503
	}
	if !hosts2[0].ejected.Load() {
		t.Error("five external failures are five gateway failures with split")
	}
}
