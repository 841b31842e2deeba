package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/registries"
)

const valid = `xds:
  listen: 127.0.0.1:18000
registries:
  - name: local
    type: static
    static:
      services:
        - name: hello
          protocol: http
          endpoints:
            - address: 127.0.0.1
              port: 9000
              labels: {zone: a}
routes:
  - service: hello
    pathPrefix: /hello/
    rewritePrefix: /
    timeout: 3s
`

func TestParseValidAppliesDefaults(t *testing.T) {
	cfg, err := Parse("rpcbridge.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Gateway.Listen != DefaultGatewayListen || cfg.Admin.Listen != DefaultAdminListen {
		t.Errorf("listen defaults not applied: %+v %+v", cfg.Gateway, cfg.Admin)
	}
	if !cfg.Gateway.On() {
		t.Error("gateway must be on by default")
	}
	svc := cfg.Registries[0].Static.Services[0]
	if svc.Protocol != registries.ProtocolHTTP || svc.Endpoints[0].Port != 9000 {
		t.Errorf("static service decoded wrong: %+v", svc)
	}
	if got := time.Duration(*cfg.Routes[0].Timeout); got != 3*time.Second {
		t.Errorf("route timeout = %v, want 3s", got)
	}
}

func TestParseErrorsNameFileLineAndKey(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       string // one problem, rendered
	}{
		{
			name: "unknown key",
			yaml: strings.Replace(valid, "          protocol: http\n", "          protocol: http\n          protocl: http\n", 1),
			want: `rpcbridge.yaml:10: registries[0].static.services[0].protocl: unknown key "protocl"`,
		},
		{
			name: "wrong type",
			yaml: strings.Replace(valid, "port: 9000", "port: ninety", 1),
			want: "rpcbridge.yaml:12: registries[0].static.services[0].endpoints[0].port: cannot unmarshal !!str `ninety` into uint32",
		},
		{
			name: "bad duration",
			yaml: strings.Replace(valid, "timeout: 3s", "timeout: soon", 1),
			want: `rpcbridge.yaml:18: routes[0].timeout: invalid duration "soon": want a value such as 250ms, 5s or 1m`,
		},
		{
			name: "invalid value",
			yaml: strings.Replace(valid, "protocol: http", "protocol: soap", 1),
			want: `rpcbridge.yaml:9: registries[0].static.services[0].protocol: protocol "soap" is not one of http, grpc, triple, dubbo`,
		},
		{
			name: "bad port",
			yaml: strings.Replace(valid, "port: 9000", "port: 70000", 1),
			want: `rpcbridge.yaml:12: registries[0].static.services[0].endpoints[0].port: port 70000 is not in 1..65535`,
		},
		{
			name: "unknown registry type",
			yaml: strings.Replace(valid, "type: static", "type: etcd", 1),
			want: `rpcbridge.yaml:5: registries[0].type: unknown registry type "etcd" (one of: static, zookeeper, nacos, consul)`,
		},
		{
			name: "syntax",
			yaml: "xds:\n  listen: [\n",
			want: `rpcbridge.yaml:2: did not find expected node content`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("rpcbridge.yaml", []byte(tc.yaml))
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Parse error = %v, want *config.Error", err)
			}
			if len(cerr.Problems) != 1 || cerr.Problems[0].String() != tc.want {
				t.Fatalf("problems:\n%s\nwant:\n%s", cerr.Error(), tc.want)
			}
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	bad := strings.Replace(strings.Replace(valid, "port: 9000", "port: 0", 1), "pathPrefix: /hello/", "pathPrefix: hello", 1)
	_, err := Parse("f.yaml", []byte(bad))
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
}

func TestParseRPCRoutes(t *testing.T) {
	good := valid + `rpcRoutes:
  - service: "dubbo:com.foo.Users:1.0.0:"
    method: find
    paramTypes: [long]
    http: {method: GET, path: "/users/{id}"}
    params: [{arg: id, from: path}]
    timeout: 2s
`
	cfg, err := Parse("f.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.RPCRoutes[0]; r.HTTP.Path != "/users/{id}" || r.Params[0].From != "path" || r.ParamTypes[0] != "long" {
		t.Fatalf("decoded %+v", r)
	}
	bad := strings.Replace(good, "from: path", "from: cookie", 1)
	_, err = Parse("f.yaml", []byte(bad))
	var cerr *Error
	if !errors.As(err, &cerr) || cerr.Problems[0].String() != `f.yaml:24: rpcRoutes[0].params[0].from: "cookie" is not one of path, query, header, body, wholeBody` {
		t.Fatalf("got %v", err)
	}
}

func TestParseMetadataCenterDurations(t *testing.T) {
	const doc = "discovery:\n  metadataCenters:\n    - servers: [\"127.0.0.1:2181\"]\n      debounce: 50ms\n      resync: 10m\n"
	cfg, err := Parse("f.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if mc := cfg.Discovery.MetadataCenters[0]; mc.Debounce.Std() != 50*time.Millisecond || mc.Resync.Std() != 10*time.Minute {
		t.Fatalf("metadata center = %+v, want debounce 50ms and resync 10m", mc)
	}
	_, err = Parse("f.yaml", []byte(strings.Replace(doc, "debounce: 50ms", "debounce: -1s", 1)))
	const want = `f.yaml:4: discovery.metadataCenters[0].debounce: duration "-1s" is negative`
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Problems) != 1 || cerr.Problems[0].String() != want {
		t.Fatalf("Parse error = %v, want %s", err, want)
	}
}
