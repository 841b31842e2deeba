package controlplane

import (
	"time"

	overloadv3 "github.com/envoyproxy/go-control-plane/envoy/config/overload/v3"
	connectionsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/downstream_connections/v3"
	fixedheapv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/resource_monitors/fixed_heap/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The overload manager's names (https://www.envoyproxy.io/docs/envoy/latest/configuration/operations/overload_manager/overload_manager).
const (
	globalConnectionsMonitor = "envoy.resource_monitors.global_downstream_max_connections"
	fixedHeapMonitor         = "envoy.resource_monitors.fixed_heap"
	shrinkHeapAction         = "envoy.overload_actions.shrink_heap"
	stopRequestsAction       = "envoy.overload_actions.stop_accepting_requests"
	// overloadRefresh is how often Envoy samples the heap (the edge guide's 250 ms).
	overloadRefresh = 250 * time.Millisecond
)

// The heap pressures at which the edge guide's actions start
// (https://www.envoyproxy.io/docs/envoy/latest/configuration/best_practices/edge): return
// freed memory to the OS at 95 %, answer new requests 503 at 98 %.
const (
	shrinkHeapThreshold   = 0.95
	stopRequestsThreshold = 0.98
)

// overloadManager is the bootstrap's overload manager for the process-level limits: the global
// cap on downstream connections (Envoy closes connections beyond it, stat
// downstream_global_cx_overflow) and, with a heap size, heap-based shedding. nil when neither is
// set.
func overloadManager(maxConnections int64, maxHeapBytes uint64) (*overloadv3.OverloadManager, error) {
	if maxConnections <= 0 && maxHeapBytes == 0 {
		return nil, nil
	}
	om := &overloadv3.OverloadManager{RefreshInterval: durationpb.New(overloadRefresh)}
	if maxConnections > 0 {
		cfg, err := typedConfig(&connectionsv3.DownstreamConnectionsConfig{MaxActiveDownstreamConnections: maxConnections})
		if err != nil {
			return nil, err
		}
		om.ResourceMonitors = append(om.ResourceMonitors, &overloadv3.ResourceMonitor{
			Name: globalConnectionsMonitor, ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: cfg}})
	}
	if maxHeapBytes > 0 {
		cfg, err := typedConfig(&fixedheapv3.FixedHeapConfig{MaxHeapSizeBytes: maxHeapBytes})
		if err != nil {
			return nil, err
		}
		om.ResourceMonitors = append(om.ResourceMonitors, &overloadv3.ResourceMonitor{
			Name: fixedHeapMonitor, ConfigType: &overloadv3.ResourceMonitor_TypedConfig{TypedConfig: cfg}})
		om.Actions = []*overloadv3.OverloadAction{
			heapAction(shrinkHeapAction, shrinkHeapThreshold),
			heapAction(stopRequestsAction, stopRequestsThreshold),
		}
	}
	return om, nil
}

// heapAction is an overload action triggered by the fixed heap monitor above threshold.
func heapAction(name string, threshold float64) *overloadv3.OverloadAction {
	return &overloadv3.OverloadAction{Name: name, Triggers: []*overloadv3.Trigger{{
		Name:         fixedHeapMonitor,
		TriggerOneof: &overloadv3.Trigger_Threshold{Threshold: &overloadv3.ThresholdTrigger{Value: threshold}},
	}}}
}
