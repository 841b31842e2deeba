package config

import (
	"strings"
	"testing"
)

// TestStoreProblemsNameFileAndLine: a bad store section is reported at its line.
func TestStoreProblemsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"dataDir: /tmp/x\nstore:\n  type: etcd\n", "cfg.yaml:3: store.type: store: unknown type \"etcd\""},
		{"dataDir: /tmp/x\nstore:\n  type: zookeeper\n", "cfg.yaml:3: store.type: store: type zookeeper needs a zookeeper block"},
		{"dataDir: /tmp/x\nstore:\n  type: zookeeper\n  zookeeper:\n    root: nope\n", "cfg.yaml:4: store.zookeeper: zookeeper store: servers: none configured"},
		{"dataDir: /tmp/x\nstore:\n  type: consul\n  zookeeper: {servers: [a:1]}\n", "the zookeeper block is set but the type is consul"},
		{"dataDir: /tmp/x\nstore:\n  rules: yes please\n", "cfg.yaml:3"},
	} {
		_, err := Parse("cfg.yaml", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.doc, err, tc.want)
		}
	}
	cfg, err := Parse("cfg.yaml", []byte("dataDir: /tmp/x\nstore:\n  type: consul\n  consul: {address: 127.0.0.1:8500}\n  rules: true\n"))
	if err != nil || !cfg.Store.Shared() || !cfg.Store.Rules || cfg.Store.Consul.Address != "127.0.0.1:8500" {
		t.Fatalf("a valid store section: %+v, %v", cfg, err)
	}
	if cfg, err := Parse("cfg.yaml", []byte("dataDir: /tmp/x\n")); err != nil || cfg.Store.Shared() {
		t.Fatalf("the default store is not local: %v", err)
	}
}

func TestParseRules(t *testing.T) {
	good := "routes:\n  - {service: users, pathPrefix: /users/}\nrpcRoutes:\n  - service: grpc:greet.v1.Greeter\n    method: SayHello\n    http: {method: GET, path: \"/hi/{name}\"}\n"
	r, err := ParseRules("rules", []byte(good))
	if err != nil || len(r.Routes) != 1 || len(r.RPCRoutes) != 1 || r.RPCRoutes[0].Origin != "rules rpcRoutes[0]" {
		t.Fatalf("%+v %v", r, err)
	}
	// A rule may reference a policy of the file (resolved by transcoding); the store's policies
	// are parsed and validated like the file's.
	withPolicy := "routes:\n  - {service: users, pathPrefix: /u/, policy: from-file}\npolicies:\n  - {name: partners, services: [users]}\n"
	if r, err := ParseRules("rules", []byte(withPolicy)); err != nil || r.Routes[0].Policy != "from-file" ||
		len(r.Policies) != 1 || r.Policies[0].Origin != "rules policies[0]" {
		t.Fatalf("rules with policies: %+v %v", r, err)
	}
	for _, tc := range []struct{ doc, want string }{
		{"xds: {listen: a:1}\n", "rules:1: xds: unknown key \"xds\""},
		{"policies:\n  - {name: Bad}\n", "rules:2: policies[0].name"},
		{"routes:\n  - {service: users, bogus: 1}\n", "rules:2"},
		{"[1, 2]\n", "rules:1"},
		{"", "rules:1"},
		{`{"routes": [{"service": ""}]}`, "rules:1"},
	} {
		if _, err := ParseRules("rules", []byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.doc, err, tc.want)
		}
	}
}
