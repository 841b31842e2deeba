package yamltime

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDecode(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 1m30s"), &v); err != nil || v.D.Std() != 90*time.Second {
		t.Fatalf("got %v, %v; want 1m30s", v.D.Std(), err)
	}
	for _, bad := range []string{"d: soon", "d: -1s", "d: [1]"} {
		err := yaml.Unmarshal([]byte("x: 1\n"+bad), &v)
		if err == nil || !strings.HasPrefix(err.Error(), "line 2:") {
			t.Errorf("%q: error %v, want one starting with the line", bad, err)
		}
	}
	if out, _ := yaml.Marshal(v); !strings.Contains(string(out), "1m30s") {
		t.Errorf("encoded as %s", out)
	}
	if Duration(0).Or(time.Second) != time.Second || Duration(2).Or(time.Second) != 2 {
		t.Error("Or does not fall back only on zero")
	}
}
