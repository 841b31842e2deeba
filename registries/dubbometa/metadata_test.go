package dubbometa

import (
	"slices"
	"strings"
	"testing"
)

func TestDropGoMethodAliases(t *testing.T) {
	got := DropGoMethodAliases([]string{"EchoUser", "Only", "echoUser", "fail", "Éa", "éa"})
	if want := []string{"Only", "echoUser", "fail", "éa"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

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
