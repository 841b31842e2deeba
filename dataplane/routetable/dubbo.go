package routetable

import (
	"encoding/json"
	"fmt"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"

	"github.com/rpcbridge/rpcbridge/dataplane/dubbojson"
)

// Keys of a REST-to-Dubbo route: the Higress transcoder's per-route config (read for its path
// template) and the route metadata holding the exact Dubbo route (controlplane's
// DubboRouteMetadataKey, the source of truth for Java types).
const (
	DubboTranscoderFilter = "envoy.filters.http.http_dubbo_transcoder"
	DubboMetadataKey      = "rpcbridge.io/dubbo"
)

// dubboRoute returns the Dubbo call a route runs, nil when it carries no Dubbo metadata.
func dubboRoute(r *routev3.Route) (*dubbojson.Route, error) {
	meta, ok := r.GetMetadata().GetFilterMetadata()[DubboMetadataKey]
	if !ok {
		return nil, nil
	}
	raw, err := meta.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%s metadata: %w", DubboMetadataKey, err)
	}
	var m dubbojson.Metadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s metadata: %w", DubboMetadataKey, err)
	}
	route, err := dubbojson.NewRoute(m, dubboMatchPattern(r))
	if err != nil {
		return nil, fmt.Errorf("%s metadata: %w", DubboMetadataKey, err)
	}
	return route, nil
}

// dubboMatchPattern is the match_pattern of the route's first Higress method mapping ("" when
// the route has no readable transcoder config); every mapping of a route has the same one.
func dubboMatchPattern(r *routev3.Route) string {
	typed, ok := r.GetTypedPerFilterConfig()[DubboTranscoderFilter]
	if !ok {
		return ""
	}
	if typed.GetTypeUrl() == filterConfigTypeURL {
		fc := &routev3.FilterConfig{}
		if proto.Unmarshal(typed.GetValue(), fc) != nil {
			return ""
		}
		typed = fc.GetConfig()
	}
	ts := &xdstypev3.TypedStruct{}
	if typed == nil || proto.Unmarshal(typed.GetValue(), ts) != nil {
		return ""
	}
	for _, svc := range ts.GetValue().GetFields()["services_mapping"].GetListValue().GetValues() {
		for _, mm := range svc.GetStructValue().GetFields()["method_mapping"].GetListValue().GetValues() {
			pm := mm.GetStructValue().GetFields()["path_matcher"].GetStructValue()
			if p := pm.GetFields()["match_pattern"].GetStringValue(); p != "" {
				return p
			}
		}
	}
	return ""
}
