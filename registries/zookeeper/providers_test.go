package zookeeper

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/registries"
)

// TestBuildInterfaceSharedRules checks what the rules shared with the other adapters
// (registries.ParseProtocol, registries/dubbourl's parameter lists) make of provider nodes:
// protocol aliases, which parameters become service metadata, the Go method aliases dubbo-go
// lists, and the names of one identity served over several protocols.
func TestBuildInterfaceSharedRules(t *testing.T) {
	const iface = "com.foo.Greeter"
	node := func(raw string) string { return url.QueryEscape(raw) }
	children := []string{
		node("dubbo://10.0.0.1:20880/" + iface + "?interface=" + iface + "&version=1.0.0&application=demo&timeout=3000" +
			"&sayHello.timeout=250&sayHello.retries=0&category=providers&path=" + iface + "&protocol=dubbo&pid=1" +
			"&methods=sayHello,SayHello,echo"),
		node("TRIPLE://10.0.0.2:50051/" + iface + "?interface=" + iface + "&version=1.0.0"),
		node("rest://10.0.0.3:8080/" + iface + "?interface=" + iface + "&version=2.0.0"),
		node("https://10.0.0.4:8443/" + iface + "?interface=" + iface + "&version=2.0.0"),
	}
	services, diags := buildInterface("registry/zk1", "/dubbo/"+iface+"/providers", iface, children)
	var got []string
	for _, s := range services {
		got = append(got, s.Name+" "+string(s.Protocol)+" "+strings.Join(s.Methods, ","))
	}
	want := []string{
		"providers:com.foo.Greeter:1.0.0: dubbo echo,sayHello",
		"providers:com.foo.Greeter:1.0.0::triple triple ",
		"providers:com.foo.Greeter:2.0.0: http ",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("services:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if md, want := services[0].Metadata, map[string]string{"application": "demo", "timeout": "3000", "sayHello.timeout": "250"}; !maps.Equal(md, want) {
		t.Errorf("metadata = %v, want %v (no method-level keys but timeouts, no category, path or protocol)", md, want)
	}
	if len(diags) != 1 || !strings.Contains(diags[0].Message, `protocol "https" is not served`) {
		t.Errorf("diagnostics = %v, want one about https", diags)
	}
	if services[2].Protocol != registries.ProtocolHTTP {
		t.Errorf("rest:// gave %s", services[2].Protocol)
	}
}

// TestMalformedEndpointsSkipInstance: an application-level instance whose dubbo.endpoints is not
// a list of {port, protocol} is skipped with a diagnostic, as the Nacos adapter does.
func TestMalformedEndpointsSkipInstance(t *testing.T) {
	_, err := parseInstance("shop", "/services/shop/10.0.0.1:20880",
		[]byte(`{"address":"10.0.0.1","port":20880,"payload":{"metadata":{"dubbo.endpoints":"[{\"port\":"}}}`))
	if err == nil || !strings.Contains(err.Error(), "dubbo.endpoints is not a JSON list") {
		t.Errorf("err = %v", err)
	}
	in, err := parseInstance("shop", "/services/shop/10.0.0.1:20880", []byte(`{"address":"10.0.0.1","port":20880,"metadata":{"k":"v"}}`))
	if err != nil || in.App != "shop" || in.Subject != "/services/shop/10.0.0.1:20880" || in.Metadata["k"] != "v" ||
		in.Endpoint.Weight != 100 || !in.Endpoint.Healthy {
		t.Errorf("instance = %+v, %v", in, err)
	}
}
