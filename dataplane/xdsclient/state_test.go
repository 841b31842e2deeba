package xdsclient

import (
	"maps"
	"slices"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

func TestApplyDelta(t *testing.T) {
	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	start := State{resource.ClusterType: {
		"a": {Version: "1", Message: &clusterv3.Cluster{Name: "a"}},
		"b": {Version: "1", Message: &clusterv3.Cluster{Name: "b"}},
	}}
	cases := []struct {
		name      string
		resp      *discoveryv3.DeltaDiscoveryResponse
		wantNames []string
		wantErr   string
	}{
		{"update and add", &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resource.ClusterType, Resources: []*discoveryv3.Resource{
			{Name: "a", Version: "2", Resource: pack(&clusterv3.Cluster{Name: "a"})},
			{Name: "c", Version: "1", Resource: pack(&clusterv3.Cluster{Name: "c"})},
		}}, []string{"a", "b", "c"}, ""},
		{"removal", &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resource.ClusterType, RemovedResources: []string{"b"}},
			[]string{"a"}, ""},
		{"name taken from the message", &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resource.EndpointType, Resources: []*discoveryv3.Resource{
			{Version: "1", Resource: pack(&endpointv3.ClusterLoadAssignment{ClusterName: "svc"})},
		}}, []string{"svc"}, ""},
		{"wrong type", &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resource.ClusterType, Resources: []*discoveryv3.Resource{
			{Name: "x", Resource: pack(&endpointv3.ClusterLoadAssignment{ClusterName: "x"})},
		}}, nil, "has type"},
		{"no body", &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resource.ClusterType, Resources: []*discoveryv3.Resource{{Name: "x"}}},
			nil, "no body"},
		{"undecodable", &discoveryv3.DeltaDiscoveryResponse{TypeUrl: resource.ClusterType, Resources: []*discoveryv3.Resource{
			{Name: "x", Resource: &anypb.Any{TypeUrl: resource.ClusterType, Value: []byte{0xff, 0xff}}},
		}}, nil, "decode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next, err := start.applyDelta(tc.resp)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := slices.Sorted(maps.Keys(next[tc.resp.GetTypeUrl()]))
			if !slices.Equal(got, tc.wantNames) {
				t.Errorf("names = %v, want %v", got, tc.wantNames)
			}
			if len(start[resource.ClusterType]) != 2 {
				t.Errorf("applyDelta modified the original state")
			}
		})
	}
}
