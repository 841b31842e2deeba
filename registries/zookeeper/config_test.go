package zookeeper

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rpcbridge/rpcbridge/internal/yamltime"
)

func TestConfigYAMLAndDefaults(t *testing.T) {
	var cfg Config
	in := "servers: [\"127.0.0.1:2181\"]\nsessionTimeout: 15s\nresyncInterval: 1m\n"
	if err := yaml.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	src, err := New("zk1", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := src.cfg
	if got.Root != "dubbo" || time.Duration(got.SessionTimeout) != 15*time.Second ||
		time.Duration(got.Debounce) != DefaultDebounce || time.Duration(got.ResyncInterval) != time.Minute {
		t.Errorf("config after defaults = %+v", got)
	}
	if src.Name() != "zk1" {
		t.Errorf("Name() = %q", src.Name())
	}
	if err := yaml.Unmarshal([]byte("debounce: soon\n"), &cfg); err == nil || !strings.Contains(err.Error(), "soon") {
		t.Errorf("bad duration accepted: %v", err)
	}
}

func TestConfigRejected(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no servers":       {},
		"empty server":     {Servers: []string{" "}},
		"nested root":      {Servers: []string{"h:1"}, Root: "a/b"},
		"negative timeout": {Servers: []string{"h:1"}, SessionTimeout: yamltime.Duration(-time.Second)},
	} {
		if _, err := New("zk1", cfg, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
