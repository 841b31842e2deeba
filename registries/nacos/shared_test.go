package nacos

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/dubbometa"
)

// TestSharedRegistryRules checks what the rules shared with the other adapters
// (registries.ParseProtocol, registries/dubbourl's parameter lists) make of Nacos entries; each
// line marked "was" behaved differently before the adapters shared them.
func TestSharedRegistryRules(t *testing.T) {
	inst := func(ip string, md map[string]string) model.Instance {
		return model.Instance{Ip: ip, Port: 20880, Weight: 1, Healthy: true, Enable: true, Metadata: md}
	}
	entries := []entry{
		{Group: "DEFAULT_GROUP", Name: "providers:com.foo.Greeter:1.0.0:", Instances: []model.Instance{
			inst("10.0.0.1", dubboProvider("com.foo.Greeter", "1.0.0", "", "dubbo",
				"methods", "sayHello,SayHello", "sayHello.timeout", "250", "sayHello.retries", "0")),
			// was: skipped as "not served"; rest providers are HTTP services, as in ZooKeeper
			inst("10.0.0.2", dubboProvider("com.foo.Greeter", "1.0.0", "", "rest")),
		}},
		{Group: "DEFAULT_GROUP", Name: "web", Instances: []model.Instance{
			inst("10.0.1.1", map[string]string{"protocol": "http2"}), // was: skipped
			inst("10.0.1.2", map[string]string{"protocol": "https"}), // was: an HTTP endpoint
		}},
	}
	services, diags := buildServices("registry/nacos1", entries, dubbometa.Cache{})
	var got []string
	for _, s := range services {
		got = append(got, s.Name+" "+string(s.Protocol)+" "+strings.Join(s.Methods, ",")+" "+strings.Join(endpointAddrs(s.Endpoints), ","))
	}
	want := []string{
		// was: methods SayHello,sayHello (dubbo-go's Go alias kept)
		"providers:com.foo.Greeter:1.0.0: dubbo sayHello 10.0.0.1",
		"providers:com.foo.Greeter:1.0.0::http http sayBye,sayHello 10.0.0.2",
		"web http  10.0.1.1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("services:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// was: sayHello.retries kept too
	if md, want := services[0].Metadata, map[string]string{"application": "demo-provider", "dubbo": "2.0.2", "side": "provider",
		"timeout": "3000", "sayHello.timeout": "250"}; !maps.Equal(md, want) {
		t.Errorf("metadata = %v, want %v", md, want)
	}
	if len(diags) != 1 || diags[0].Subject != "public/DEFAULT_GROUP/web 10.0.1.2:20880" ||
		!strings.Contains(diags[0].Message, `protocol "https" is not served`) {
		t.Errorf("diagnostics = %v, want one about https", diags)
	}
}

func endpointAddrs(eps []registries.Endpoint) []string {
	var out []string
	for _, ep := range eps {
		out = append(out, ep.Address)
	}
	return out
}
