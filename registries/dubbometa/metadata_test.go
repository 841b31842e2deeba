package dubbometa

import (
	"maps"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/registries"
)

func TestMetadataTarget(t *testing.T) {
	cases := []struct {
		name, params, endpoints string
		want, version, err      string
	}{
		{"flat (Dubbo 3, dubbo-go)", `{"port":"20881","protocol":"dubbo","version":"1.0.0"}`, "", "10.0.0.1:20881", "1.0.0", ""},
		{"keyed by protocol (Dubbo 2.7)", `{"dubbo":{"port":"20882","version":"2.0.0"}}`, "", "10.0.0.1:20882", "2.0.0", ""},
		{"numeric port", `{"port":20883}`, "", "10.0.0.1:20883", "1.0.0", ""},
		{"no params: the dubbo endpoint", "", `[{"port":20884,"protocol":"dubbo"}]`, "10.0.0.1:20884", "1.0.0", ""},
		{"triple only", `{"port":"50051","protocol":"tri"}`, "", "", "", "only the dubbo protocol"},
		{"no dubbo port", "", `[{"port":50051,"protocol":"tri"}]`, "", "", "no dubbo port"},
		{"bad JSON", `{`, "", "", "", "not JSON"},
	}
	for _, c := range cases {
		in := Instance{Address: "10.0.0.1", Port: 20880, Metadata: map[string]string{}}
		if c.params != "" {
			in.Metadata["dubbo.metadata-service.url-params"] = c.params
		}
		if c.endpoints != "" {
			in.Metadata["dubbo.endpoints"] = c.endpoints
		}
		addr, version, err := Target(in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || addr != c.want || version != c.version {
			t.Errorf("%s: got %s %s %v, want %s %s", c.name, addr, version, err, c.want, c.version)
		}
	}
}

func TestParseMetadataInfo(t *testing.T) {
	decoded := map[string]any{
		"_class": "org.apache.dubbo.metadata.MetadataInfo", "app": "shop", "revision": "r1",
		"services": map[any]any{
			"com.shop.Cart:1.0.0:g:dubbo": map[string]any{"_class": "org.apache.dubbo.metadata.MetadataInfo$ServiceInfo",
				"name": "com.shop.Cart", "group": "g", "version": "1.0.0", "protocol": "dubbo", "port": int32(20880),
				"path": "com.shop.Cart", "params": map[any]any{"methods": "list,add", "timeout": "3000"}},
			"ms": map[string]any{"name": MetadataServiceInterface, "protocol": "dubbo"},
		},
	}
	services, err := ParseMetadataInfo(decoded, "r1")
	if err != nil || len(services) != 1 {
		t.Fatalf("services = %+v, %v", services, err)
	}
	s := services[0]
	if s.Name != "com.shop.Cart" || s.Version != "1.0.0" || s.Group != "g" || s.Port != 20880 || s.Params["methods"] != "list,add" {
		t.Errorf("service = %+v", s)
	}
	if _, err := ParseMetadataInfo(decoded, "r2"); err == nil {
		t.Error("a different revision was accepted")
	}
	if _, err := ParseMetadataInfo(nil, "r1"); err == nil {
		t.Error("a null MetadataInfo was accepted")
	}
}

func TestInstanceEndpoints(t *testing.T) {
	cases := []struct {
		name, endpoints string
		port            int
		want            map[registries.Protocol]uint32
		err             string
	}{
		{"no dubbo.endpoints: the instance port serves dubbo", "", 20880, map[registries.Protocol]uint32{registries.ProtocolDubbo: 20880}, ""},
		{"no dubbo.endpoints and no port", "", 0, map[registries.Protocol]uint32{}, ""},
		{"aliases and case", `[{"port":20881,"protocol":"DUBBO"},{"port":50051,"protocol":"triple"},{"port":8080,"protocol":"rest"}]`, 20880,
			map[registries.Protocol]uint32{registries.ProtocolDubbo: 20881, registries.ProtocolTriple: 50051, registries.ProtocolHTTP: 8080}, ""},
		{"first entry wins, unknown names left out", `[{"port":50051,"protocol":"tri"},{"port":50052,"protocol":"triple"},{"port":9,"protocol":"thrift"}]`, 20880,
			map[registries.Protocol]uint32{registries.ProtocolTriple: 50051}, ""},
		{"not JSON", `[{"port":20880,`, 20880, nil, "not a JSON list"},
		{"bad port", `[{"port":70000,"protocol":"dubbo"}]`, 20880, nil, "port 70000"},
	}
	for _, c := range cases {
		in := Instance{Address: "10.0.0.1", Port: c.port, Metadata: map[string]string{}}
		if c.endpoints != "" {
			in.Metadata[KeyEndpoints] = c.endpoints
		}
		got, err := in.Endpoints()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.err)
			}
			if _, ok := in.EndpointFor(registries.ProtocolDubbo); ok {
				t.Errorf("%s: EndpointFor found a port in malformed metadata", c.name)
			}
			continue
		}
		if err != nil || !maps.Equal(got, c.want) {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}
