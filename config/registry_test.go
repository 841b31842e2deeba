package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/registries"
	"github.com/rpcbridge/rpcbridge/registries/consul"
	"github.com/rpcbridge/rpcbridge/registries/nacos"
	"github.com/rpcbridge/rpcbridge/registries/static"
	"github.com/rpcbridge/rpcbridge/registries/zookeeper"
)

// TestNewSourceBuildsTheAdapterOfTheType builds a source for every registry type from a parsed
// file: the adapter the type names, under the registry's name. (New only checks the
// configuration; nothing connects.)
func TestNewSourceBuildsTheAdapterOfTheType(t *testing.T) {
	const doc = `registries:
  - {name: s, type: static, static: {services: [{name: a, protocol: http}]}}
  - {name: z, type: zookeeper, zookeeper: {servers: ["127.0.0.1:2181"]}}
  - {name: n, type: nacos, nacos: {servers: ["127.0.0.1:8848"]}}
  - {name: c, type: consul, consul: {address: "127.0.0.1:8500"}}
`
	cfg, err := Parse("f.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []registries.Source{(*static.Source)(nil), (*zookeeper.Source)(nil), (*nacos.Source)(nil), (*consul.Source)(nil)}
	for i, rc := range cfg.Registries {
		src, err := rc.NewSource(nil)
		if err != nil {
			t.Fatalf("%s: %v", rc.Name, err)
		}
		if reflect.TypeOf(src) != reflect.TypeOf(want[i]) || src.Name() != rc.Name {
			t.Errorf("%s: built %T named %q, want %T named %q", rc.Name, src, src.Name(), want[i], rc.Name)
		}
	}
	bad := RegistryConfig{Name: "x", Type: "zookeeper"}
	if src, err := bad.NewSource(nil); err == nil || src != nil {
		t.Errorf("a registry without its block built %v, %v; want an error", src, err)
	}
}

// TestRetentionDefaultsByType: a dynamic registry keeps a service without providers for
// DefaultServiceRetention, a static one not at all; an explicit value, 0s included, wins.
func TestRetentionDefaultsByType(t *testing.T) {
	const doc = `registries:
  - {name: s, type: static, static: {services: [{name: a, protocol: http}]}}
  - {name: z, type: zookeeper, zookeeper: {servers: ["127.0.0.1:2181"]}}
  - {name: c, type: consul, consul: {address: "127.0.0.1:8500"}, serviceRetention: 0s}
  - {name: n, type: nacos, nacos: {servers: ["127.0.0.1:8848"]}, serviceRetention: 1h}
  - {name: t, type: static, static: {services: [{name: b, protocol: http}]}, serviceRetention: 30s}
`
	cfg, err := Parse("f.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{0, DefaultServiceRetention, 0, time.Hour, 30 * time.Second}
	for i, rc := range cfg.Registries {
		if got := rc.Retention(); got != want[i] {
			t.Errorf("%s: retention %s, want %s", rc.Name, got, want[i])
		}
	}
	_, err = Parse("f.yaml", []byte(strings.Replace(doc, "serviceRetention: 1h", "serviceRetention: forever", 1)))
	if err == nil || !strings.Contains(err.Error(), `f.yaml:5: registries[3].serviceRetention: invalid duration "forever"`) {
		t.Errorf("a bad retention: %v", err)
	}
}
