package dubbourl

import (
	"maps"
	"slices"
	"testing"

	"github.com/rpcbridge/rpcbridge/registries"
)

func TestDropGoMethodAliases(t *testing.T) {
	got := DropGoMethodAliases([]string{"EchoUser", "Only", "echoUser", "fail", "Éa", "éa"})
	if want := []string{"Only", "echoUser", "fail", "éa"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseMethods(t *testing.T) {
	got := ParseMethods(" sayHello,EchoUser,,echoUser,sayHello ,SayBye")
	if want := []string{"SayBye", "echoUser", "sayHello"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := ParseMethods(""); got != nil {
		t.Errorf("empty list: %v, want nil", got)
	}
}

func TestServiceMetadata(t *testing.T) {
	params := map[string]string{
		"application": "demo", "timeout": "3000", "serialization": "hessian2", "deprecated": "false",
		"add.timeout": "250", "add.retries": "0", ".timeout": "1",
		// per endpoint, or said by the service's identity and protocol
		"timestamp": "1", "pid": "2", "weight": "50", "enabled": "true", "disabled": "false",
		"bind.ip": "10.0.0.1", "bind.port": "20880", "anyhost": "true", "ipv6": "::1",
		"interface": "com.foo.Greeter", "path": "com.foo.Greeter", "version": "1.0.0", "group": "g",
		"protocol": "dubbo", "methods": "a,b", "category": "providers",
	}
	want := map[string]string{"application": "demo", "timeout": "3000", "serialization": "hessian2",
		"deprecated": "false", "add.timeout": "250"}
	if got := ServiceMetadata(params); !maps.Equal(got, want) {
		t.Errorf("ServiceMetadata = %v, want %v", got, want)
	}
	if got := ServiceMetadata(map[string]string{"pid": "1"}); got != nil {
		t.Errorf("only per-endpoint params: %v, want nil", got)
	}
}

func TestEndpointLabels(t *testing.T) {
	got := EndpointLabels(map[string]string{"version": "1.0.0", "group": "", "application": "demo", "dubbo": "2.0.2",
		"release": "3.3.2", "side": "provider", "serialization": "hessian2", "timeout": "3000", "pid": "1", "dubbo.tag": "gray"})
	want := map[string]string{"version": "1.0.0", "application": "demo", "dubbo": "2.0.2", "release": "3.3.2",
		"side": "provider", "serialization": "hessian2", "dubbo.tag": "gray"}
	if !maps.Equal(got, want) {
		t.Errorf("EndpointLabels = %v, want %v", got, want)
	}
	if got := EndpointLabels(map[string]string{"timeout": "1"}); got != nil {
		t.Errorf("no label params: %v, want nil", got)
	}
}

func TestShared(t *testing.T) {
	a, _ := Parse("dubbo://10.0.0.1:20880/com.foo.Greeter?application=demo&timeout=3000&pid=1&methods=sayHello,SayHello")
	b, _ := Parse("dubbo://10.0.0.2:20880/com.foo.Greeter?application=demo&timeout=1000&pid=2&methods=sayBye")
	methods, metadata := Shared([]URL{a, b})
	if want := []string{"sayBye", "sayHello"}; !slices.Equal(methods, want) {
		t.Errorf("methods = %v, want %v", methods, want)
	}
	if want := map[string]string{"application": "demo"}; !maps.Equal(metadata, want) {
		t.Errorf("metadata = %v, want %v (timeout differs, pid is per endpoint)", metadata, want)
	}
	if m, md := Shared(nil); m != nil || md != nil {
		t.Errorf("no providers: %v %v", m, md)
	}
}

func TestServiceNames(t *testing.T) {
	base := ServiceName("com.foo.Greeter", "1.0.0", "")
	if base != "providers:com.foo.Greeter:1.0.0:" {
		t.Errorf("ServiceName = %q", base)
	}
	for _, c := range []struct {
		p         registries.Protocol
		protocols int
		want      string
	}{
		{registries.ProtocolTriple, 1, base},
		{registries.ProtocolDubbo, 2, base},
		{registries.ProtocolTriple, 2, base + ":triple"},
		{registries.ProtocolHTTP, 3, base + ":http"},
	} {
		if got := ProtocolName(base, c.p, c.protocols); got != c.want {
			t.Errorf("ProtocolName(%s, %d) = %q, want %q", c.p, c.protocols, got, c.want)
		}
	}
}

func TestPayload(t *testing.T) {
	cases := []struct {
		params map[string]string
		want   int
		err    bool
	}{
		{map[string]string{}, DefaultPayload, false},
		{map[string]string{"release": "3.2.11"}, DefaultPayload, false},
		{map[string]string{"release": "dubbo-golang-3.3.2"}, DubboGoPayload, false},
		{map[string]string{"payload": "65536"}, 65536, false},
		{map[string]string{"payload": "65536", "release": "dubbo-golang-3.3.2"}, 65536, false},
		{map[string]string{"payload": "0"}, DefaultPayload, true},
		{map[string]string{"payload": "lots", "release": "dubbo-golang-3.3.2"}, DubboGoPayload, true},
	}
	for _, c := range cases {
		got, err := Payload(c.params)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("Payload(%v) = %d, %v; want %d (error: %v)", c.params, got, err, c.want, c.err)
		}
	}
}

// TestSharedPayload: the service's payload is the smallest among its providers, whether they
// publish it or not.
func TestSharedPayload(t *testing.T) {
	url := func(params map[string]string) URL {
		p := map[string]string{"interface": "com.foo.Greeter"}
		maps.Copy(p, params)
		return URL{Protocol: "dubbo", Host: "10.0.0.1", Port: 20880, Params: p}
	}
	java, javaSmall := url(map[string]string{"release": "3.2.11"}), url(map[string]string{"release": "3.2.11", "payload": "1000"})
	golang := url(map[string]string{"release": "dubbo-golang-3.3.2"})
	cases := []struct {
		providers []URL
		want      string // metadata["payload"]
		limit     int
	}{
		{[]URL{java, java}, "", DefaultPayload},
		{[]URL{golang, golang}, "", DubboGoPayload},
		{[]URL{javaSmall, javaSmall}, "1000", 1000},
		{[]URL{java, javaSmall}, "1000", 1000},
		{[]URL{java, golang}, "1023984", DubboGoPayload},
		{[]URL{url(map[string]string{"payload": "16777216"}), java}, "", DefaultPayload},
		{[]URL{url(map[string]string{"payload": "16777216"}), golang}, "1023984", DubboGoPayload},
	}
	for _, c := range cases {
		_, md := Shared(c.providers)
		if limit, _ := Payload(md); md["payload"] != c.want || limit != c.limit {
			t.Errorf("providers %v: metadata %v (limit %d), want payload %q (limit %d)", c.providers, md, limit, c.want, c.limit)
		}
	}
}

// TestTriplePayload: a Triple provider's request limit is its payload parameter, else a dubbo-go
// provider's max-server-recv-msg-size (go-humanize's sizes) or dubbo-go's 4 MiB default, else
// Java Dubbo's 8 MiB; a size that does not parse is reported and the default applies.
func TestTriplePayload(t *testing.T) {
	goRelease := "dubbo-golang-3.3.2"
	for _, c := range []struct {
		params map[string]string
		want   int
		bad    bool
	}{
		{map[string]string{}, DefaultPayload, false},
		{map[string]string{"release": "3.3.0"}, DefaultPayload, false},
		{map[string]string{"release": goRelease}, 4 << 20, false},
		{map[string]string{"release": goRelease, "max-server-recv-msg-size": "4mib"}, 4 << 20, false},
		{map[string]string{"release": goRelease, "max-server-recv-msg-size": "2 MB"}, 2000000, false},
		{map[string]string{"release": goRelease, "max-server-recv-msg-size": "1048576"}, 1 << 20, false},
		{map[string]string{"release": goRelease, "max-server-recv-msg-size": "lots"}, 4 << 20, true},
		{map[string]string{"release": goRelease, "max-server-recv-msg-size": "0"}, 4 << 20, true},
		{map[string]string{"release": goRelease, "payload": "5000", "max-server-recv-msg-size": "4mib"}, 5000, false},
		{map[string]string{"payload": "-1"}, DefaultPayload, true},
	} {
		got, err := TriplePayload(c.params)
		if got != c.want || (err != nil) != c.bad {
			t.Errorf("TriplePayload(%v) = %d, %v; want %d, error %v", c.params, got, err, c.want, c.bad)
		}
	}
}
