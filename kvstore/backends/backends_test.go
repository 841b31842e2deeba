package backends

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/kvstore/consul"
	"github.com/rpcbridge/rpcbridge/kvstore/local"
	"github.com/rpcbridge/rpcbridge/kvstore/nacos"
	"github.com/rpcbridge/rpcbridge/kvstore/zookeeper"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want string // "" for valid
	}{
		{``, ""},
		{`type: local`, ""},
		{`{type: local, local: {dir: /var/lib/rpcbridge/store}}`, ""},
		{`{type: zookeeper, zookeeper: {servers: ["zk:2181"], digest: {file: /run/secrets/zk}}}`, ""},
		{`{type: consul, consul: {address: "consul:8501", scheme: https, token: {env: CONSUL_TOKEN}, tls: {caFile: ca.pem}}}`, ""},
		{`{type: nacos, nacos: {servers: ["nacos:8848"], username: {env: U}, password: {file: p}}}`, ""},
		{`type: etcd`, "unknown type"},
		{`type: zookeeper`, "needs a zookeeper block"},
		{`{type: consul, consul: {}, zookeeper: {servers: [a]}}`, "the zookeeper block is set"},
		{`{type: zookeeper, zookeeper: {servers: []}}`, "servers"},
		{`{type: nacos, nacos: {servers: ["nacos"]}}`, "host:port"},
	} {
		var c Config
		dec := yaml.NewDecoder(strings.NewReader(tc.yaml))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && tc.yaml != "" {
			t.Fatalf("decode %s: %v", tc.yaml, err)
		}
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.yaml, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error about %q", tc.yaml, err, tc.want)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open(Config{}, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*local.Store); !ok {
		t.Fatalf("the zero config opened a %T", s)
	}
	if _, err := s.Put(context.Background(), "a", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    Config
		want any
	}{
		{Config{Type: ZooKeeper, ZooKeeper: &zookeeper.Config{Servers: []string{"127.0.0.1:1"}}}, &zookeeper.Store{}},
		{Config{Type: Consul, Consul: &consul.Config{Address: "127.0.0.1:1"}}, &consul.Store{}},
		{Config{Type: Nacos, Nacos: &nacos.Config{Servers: []string{"127.0.0.1:1"}}}, &nacos.Store{}},
	} {
		s, err := Open(tc.c, dir, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.c.Type, err)
		}
		if got, want := fmt.Sprintf("%T", s), fmt.Sprintf("%T", tc.want); got != want {
			t.Errorf("%s opened a %s, want %s", tc.c.Type, got, want)
		}
		_ = s.Close()
	}
}
