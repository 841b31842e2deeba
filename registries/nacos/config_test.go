package nacos

import (
	"github.com/rpcbridge/rpcbridge/internal/secret"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestConfigDefaults fills the documented defaults and keeps the SDK's files out of the
// working directory.
func TestConfigDefaults(t *testing.T) {
	cfg, err := Config{Servers: []string{"127.0.0.1:8848"}, Namespaces: []string{"public", "dev", ""}}.withDefaults("reg/1")
	if err != nil {
		t.Fatalf("withDefaults: %v", err)
	}
	if !slices.Equal(cfg.Namespaces, []string{"", "dev"}) {
		t.Errorf("namespaces = %q, want public and \"\" folded into \"\"", cfg.Namespaces)
	}
	if !slices.Equal(cfg.Groups, []string{"DEFAULT_GROUP"}) || cfg.ResyncInterval.Std() != time.Minute || cfg.PageSize != DefaultPageSize {
		t.Errorf("defaults = groups %q resync %s pageSize %d", cfg.Groups, cfg.ResyncInterval.Std(), cfg.PageSize)
	}
	base := filepath.Join(os.TempDir(), "rpcbridge", "nacos", "reg_1") // "/" in the name is not a path separator
	if cfg.CacheDir != filepath.Join(base, "cache") || cfg.LogDir != filepath.Join(base, "log") {
		t.Errorf("cacheDir %q, logDir %q: want them under %s", cfg.CacheDir, cfg.LogDir, base)
	}
	for _, bad := range []Config{
		{},
		{Servers: []string{"127.0.0.1"}},
		{Servers: []string{"127.0.0.1:65000"}}, // gRPC would be on 66000
		{Servers: []string{"127.0.0.1:8848"}, Groups: []string{" "}},
		{Servers: []string{"127.0.0.1:8848"}, Password: secret.Ref{Env: "NACOS_PASSWORD"}},
	} {
		if _, err := bad.withDefaults("r"); err == nil {
			t.Errorf("withDefaults(%+v) accepted a bad config", bad)
		}
	}
}

// TestNacosWeight checks the weight scale: Nacos 1.0 is rpcbridge's 100, never below 1.
func TestNacosWeight(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want uint32
	}{{1, 100}, {0.5, 50}, {2.5, 250}, {0.001, 1}, {0, 1}, {-3, 1}, {math.NaN(), 1}, {1e300, math.MaxUint32}} {
		if got := nacosWeight(c.in); got != c.want {
			t.Errorf("nacosWeight(%v) = %d, want %d", c.in, got, c.want)
		}
	}
}
