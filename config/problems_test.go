package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// problems parses doc and returns every problem, rendered; it fails the test when doc is valid.
func problems(t *testing.T, doc string) []string {
	t.Helper()
	_, err := Parse("f.yaml", []byte(doc))
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Parse error = %v, want *config.Error", err)
	}
	var out []string
	for _, p := range cerr.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestFlowMappingBlamesTheKeyOfTheBadValue(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{
			name: "duration",
			doc: "registries:\n  - name: zk\n    type: zookeeper\n" +
				"    zookeeper: {servers: [\"127.0.0.1:2181\"], sessionTimeout: soon}\n",
			want: `f.yaml:4: registries[0].zookeeper.sessionTimeout: invalid duration "soon": want a value such as 250ms, 5s or 1m`,
		},
		{
			name: "integer",
			doc: "registries:\n  - name: local\n    type: static\n    static:\n      services:\n" +
				"        - {name: a, protocol: http, endpoints: [{address: 127.0.0.1, port: ninety}]}\n",
			want: "f.yaml:6: registries[0].static.services[0].endpoints[0].port: cannot unmarshal !!str `ninety` into uint32",
		},
		{
			name: "nested flow mappings",
			doc:  "discovery: {reflection: {include: [\"*\"], refresh: -1s}}\n",
			want: `f.yaml:1: discovery.reflection.refresh: duration "-1s" is negative`,
		},
		{
			name: "same key name twice on a line",
			doc:  "discovery: {metadataCenters: [{servers: [a], debounce: 1s}, {servers: [b], debounce: x}]}\n",
			want: `f.yaml:1: discovery.metadataCenters[1].debounce: invalid duration "x": want a value such as 250ms, 5s or 1m`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := problems(t, tc.doc); !slices.Equal(got, []string{tc.want}) {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

func TestEveryProblemOfAFileInOneRun(t *testing.T) {
	const doc = `syncTimeout: soon
xds: {listen: nowhere}
registries:
  - name: zk
    type: zookeeper
    zookeeper: {servers: ["127.0.0.1:2181"], debounce: 1x, resyncInterval: -5m}
  - name: local
    type: static
    static:
      services:
        - {name: a, protocol: http, endpoints: [{address: 127.0.0.1, port: 0}]}
routes:
  - {service: a, pathPrefix: /a/, timeout: later, methds: [GET]}
rpcRoutes:
  - {service: x, method: m, http: {method: get, path: /x}, timeout: 1s}
`
	want := []string{
		`f.yaml:1: syncTimeout: invalid duration "soon": want a value such as 250ms, 5s or 1m`,
		`f.yaml:2: xds.listen: "nowhere" is not a host:port address`,
		`f.yaml:6: registries[0].zookeeper.debounce: invalid duration "1x": want a value such as 250ms, 5s or 1m`,
		`f.yaml:6: registries[0].zookeeper.resyncInterval: duration "-5m" is negative`,
		`f.yaml:11: registries[1].static.services[0].endpoints[0].port: port 0 is not in 1..65535`,
		`f.yaml:13: routes[0].timeout: invalid duration "later": want a value such as 250ms, 5s or 1m`,
		`f.yaml:13: routes[0].methds: unknown key "methds"`,
		`f.yaml:15: rpcRoutes[0].http.method: "get" is not an upper-case HTTP method`,
	}
	if got := problems(t, doc); !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEmptyConfigurationIsInvalid(t *testing.T) {
	for _, doc := range []string{"", "  \n\t\n", "# just a comment\n\n\t# another, after a tab\n", "---\n", "~\n", "---\n# nothing\n...\n"} {
		if got := problems(t, doc); !slices.Equal(got, []string{"f.yaml: the configuration is empty"}) {
			t.Errorf("%q: problems %q, want the empty configuration", doc, got)
		}
	}
	// An explicit empty mapping asks for every default.
	if _, err := Parse("f.yaml", []byte("{}\n")); err != nil {
		t.Errorf("{}: %v", err)
	}
}

func TestSecondDocumentIsAProblem(t *testing.T) {
	got := problems(t, "dataDir: ./a\n---\nregistries: []\n")
	want := []string{"f.yaml:2: a second YAML document; the configuration is one document"}
	if !slices.Equal(got, want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

func TestRuleProblems(t *testing.T) {
	const doc = `routes:
  - service: a
    path: /a
    pathPrefix: /a/
    origin: somewhere
rpcRoutes:
  - service: "dubbo:com.foo.Users:1.0.0:"
    method: find
    http: {method: GET, path: "/users/{id"}
    params: [{arg: id, from: path}, {from: query}]
`
	want := []string{
		`f.yaml:3: routes[0].path: pathPrefix and path are exclusive`,
		`f.yaml:5: routes[0].origin: unknown key "origin"`,
		`f.yaml:9: rpcRoutes[0].http.path: path template "/users/{id": unclosed '{'`,
		`f.yaml:10: rpcRoutes[0].params[1].arg: the argument is not named`,
	}
	if got := problems(t, doc); !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRegistryBlocks(t *testing.T) {
	const doc = `registries:
  - name: a
    type: zookeeper
    zookeeper: {servers: []}
  - name: b
    type: static
    nacos: {servers: ["127.0.0.1:8848"]}
  - name: c
    type: consul
    consul: {scheme: ftp}
  - name: d
    type: nacos
    nacos: {servers: ["nowhere"]}
  - name: e
    type: etcd
`
	want := []string{
		`f.yaml:4: registries[0].zookeeper: zookeeper: no servers configured`,
		`f.yaml:5: registries[1].static: a static registry needs a static: block with its services`,
		`f.yaml:7: registries[1].nacos: a nacos block in a registry of type "static"`,
		`f.yaml:10: registries[2].consul: consul: scheme "ftp": want http or https`,
		`f.yaml:13: registries[3].nacos: nacos: server "nowhere": want host:port (the HTTP port, e.g. 127.0.0.1:8848)`,
		`f.yaml:15: registries[4].type: unknown registry type "etcd" (one of: static, zookeeper, nacos, consul)`,
	}
	if got := problems(t, doc); !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
