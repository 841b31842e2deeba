package consul

import (
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigDefaultsAndChecks(t *testing.T) {
	var cfg Config
	if err := yaml.Unmarshal([]byte("address: 10.0.0.9:8500\nwait: 5s\nprecedence: [tags, meta]\n"), &cfg); err != nil {
		t.Fatal(err)
	}
	got, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got.Address != "10.0.0.9:8500" || got.Wait.Std() != 5*time.Second || got.Debounce.Std() != DefaultDebounce ||
		got.Scheme != "http" || got.ProtocolMetaKey != "protocol" || got.DefaultProtocol != DefaultProtocol {
		t.Errorf("defaults not filled: %+v", got)
	}
	if want := []string{FromTags, FromMeta, FromDefault}; !slices.Equal(got.Precedence, want) {
		t.Errorf("precedence = %v, want %v", got.Precedence, want)
	}
	if d, _ := (Config{}).withDefaults(); !slices.Equal(d.Precedence, DefaultPrecedence) || d.Address != DefaultAddress {
		t.Errorf("empty config: %+v", d)
	}
	for _, bad := range []struct {
		cfg  Config
		want string
	}{
		{Config{Precedence: []string{"labels"}}, `"labels"`},
		{Config{Precedence: []string{FromMeta, FromMeta}}, "twice"},
		{Config{Precedence: []string{FromDefault, FromTags}}, "last"},
		{Config{Scheme: "grpc"}, "scheme"},
		{Config{DefaultProtocol: "thrift"}, "defaultProtocol"},
	} {
		if _, err := bad.cfg.withDefaults(); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%+v: error %v, want one mentioning %s", bad.cfg, err, bad.want)
		}
	}
	if _, err := New("", Config{}, nil); err == nil {
		t.Error("New accepted an empty name")
	}
}
