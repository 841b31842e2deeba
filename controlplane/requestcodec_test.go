package controlplane

import (
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// TestRequestCodecSharesNames decodes requests with the codec and checks them against
// protobuf's own decoding; two requests with the same names share one slice, and a name that is
// not UTF-8 is refused as protobuf refuses it.
func TestRequestCodecSharesNames(t *testing.T) {
	c := newRequestCodec()
	decode := func(req *discoveryv3.DiscoveryRequest) *discoveryv3.DiscoveryRequest {
		t.Helper()
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		got := &discoveryv3.DiscoveryRequest{}
		if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, req) {
			t.Fatalf("decoded %v, want %v", got, req)
		}
		return got
	}
	req := &discoveryv3.DiscoveryRequest{Node: &corev3.Node{Id: "n"}, TypeUrl: resource.EndpointType,
		VersionInfo: "v1", ResourceNames: []string{"b", "a", "b"}, ResponseNonce: "7"}
	first, second := decode(req), decode(req)
	if &first.ResourceNames[0] != &second.ResourceNames[0] {
		t.Error("two requests with the same names got separate slices")
	}
	decode(&discoveryv3.DiscoveryRequest{TypeUrl: resource.ClusterType})
	other := decode(&discoveryv3.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: []string{"a"}})
	if &other.ResourceNames[0] == &first.ResourceNames[0] {
		t.Error("different names share a slice")
	}

	bad := protowire.AppendTag(nil, resourceNamesField, protowire.BytesType)
	bad = protowire.AppendBytes(bad, []byte{0xff, 0xfe})
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer(bad)}, &discoveryv3.DiscoveryRequest{}); err == nil {
		t.Error("a resource name that is not UTF-8 was accepted")
	}
	if err := proto.Unmarshal(bad, &discoveryv3.DiscoveryRequest{}); err == nil {
		t.Error("protobuf accepts the name the codec refuses")
	}
}

// TestSplitNamesInterleaved: names interleaved with other fields are still all found, in order.
func TestSplitNamesInterleaved(t *testing.T) {
	var b []byte
	for i, name := range []string{"a", "b", "c"} {
		b = protowire.AppendTag(b, resourceNamesField, protowire.BytesType)
		b = protowire.AppendString(b, name)
		if i == 0 {
			b = protowire.AppendTag(b, 4, protowire.BytesType)
			b = protowire.AppendString(b, resource.EndpointType)
		}
	}
	req := &discoveryv3.DiscoveryRequest{}
	if err := newRequestCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, req); err != nil {
		t.Fatal(err)
	}
	if got := req.GetResourceNames(); len(got) != 3 || got[0] != "a" || got[2] != "c" || req.GetTypeUrl() != resource.EndpointType {
		t.Fatalf("decoded names %v and type %q, want [a b c] and %s", got, req.GetTypeUrl(), resource.EndpointType)
	}
}
