package telemetry

import (
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RegistryState is what the registry metrics show of one registry's last snapshot. The runner
// that receives the snapshots derives it (package telemetry does not know registries).
type RegistryState struct {
	// Synced: the registry has completed its first full listing.
	Synced bool
	// Stale: the registry cannot be reached; the snapshot is the last known state.
	Stale bool
	// Services, HealthyEndpoints, UnhealthyEndpoints and Diagnostics count the snapshot's.
	Services, HealthyEndpoints, UnhealthyEndpoints, Diagnostics int
}

// RegistryActivity is what a registry source reports of its own work, read at every scrape.
type RegistryActivity struct {
	// LastSync is the end of the source's last successful read of the registry; zero when the
	// source does not say (the time of the last connected snapshot is used then).
	LastSync time.Time
	// WatchRearms counts the watches the source set again after its first listing.
	WatchRearms uint64
}

// RegistryMetrics exports the health of the configured registries: a prometheus.Collector
// that reports, at each scrape, the state last observed for each registry. Registries that are
// forgotten (removed from the configuration) leave no series behind. A nil *RegistryMetrics
// records nothing.
type RegistryMetrics struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*registryEntry
}

type registryEntry struct {
	state RegistryState
	// connectedAt is when a synced, not stale state was last observed.
	connectedAt time.Time
	activity    func() RegistryActivity
}

var (
	registryConnected = desc("rpcbridge_registry_connected")
	registrySynced    = desc("rpcbridge_registry_synced")
	registryLastSync  = desc("rpcbridge_registry_last_sync_timestamp_seconds")
	registryServices  = desc("rpcbridge_registry_services")
	registryEndpoints = desc("rpcbridge_registry_endpoints")
	registryDiags     = desc("rpcbridge_registry_diagnostics")
	registryRearms    = desc("rpcbridge_registry_watch_rearms_total")
)

// NewRegistryMetrics returns the registry metrics, registered with reg (unless nil).
func NewRegistryMetrics(reg prometheus.Registerer, log *slog.Logger) *RegistryMetrics {
	return register(reg, &RegistryMetrics{now: time.Now, entries: map[string]*registryEntry{}}, log)
}

func (m *RegistryMetrics) entry(name string) *registryEntry {
	e := m.entries[name]
	if e == nil {
		e = &registryEntry{}
		m.entries[name] = e
	}
	return e
}

// Observe records the state of registry name's latest snapshot.
func (m *RegistryMetrics) Observe(name string, s RegistryState) {
	if m == nil {
		return
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(name)
	e.state = s
	if s.Synced && !s.Stale {
		e.connectedAt = now
	}
}

// Track makes activity the source of registry name's last sync time and watch re-arms, until
// Forget or the next Track.
func (m *RegistryMetrics) Track(name string, activity func() RegistryActivity) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entry(name).activity = activity
}

// Forget drops registry name: its series disappear.
func (m *RegistryMetrics) Forget(name string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, name)
}

// Describe implements prometheus.Collector.
func (m *RegistryMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{registryConnected, registrySynced, registryLastSync, registryServices,
		registryEndpoints, registryDiags, registryRearms} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *RegistryMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	type row struct {
		name     string
		e        registryEntry
		activity func() RegistryActivity
	}
	rows := make([]row, 0, len(m.entries))
	for _, name := range slices.Sorted(maps.Keys(m.entries)) {
		e := m.entries[name]
		rows = append(rows, row{name, *e, e.activity})
	}
	m.mu.Unlock()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, r := range rows {
		s := r.e.state
		gauge(registryConnected, boolValue(s.Synced && !s.Stale), r.name)
		gauge(registrySynced, boolValue(s.Synced), r.name)
		gauge(registryServices, float64(s.Services), r.name)
		gauge(registryEndpoints, float64(s.HealthyEndpoints), r.name, "healthy")
		gauge(registryEndpoints, float64(s.UnhealthyEndpoints), r.name, "unhealthy")
		gauge(registryDiags, float64(s.Diagnostics), r.name)
		last := r.e.connectedAt
		if r.activity != nil {
			a := r.activity() // outside the lock: a source's counters are its own
			if !a.LastSync.IsZero() {
				last = a.LastSync
			}
			ch <- prometheus.MustNewConstMetric(registryRearms, prometheus.CounterValue, float64(a.WatchRearms), r.name)
		}
		if !last.IsZero() {
			gauge(registryLastSync, float64(last.UnixNano())/1e9, r.name)
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
