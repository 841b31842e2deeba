package yamltime

import (
	"errors"
	"reflect"
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
		var terr *yaml.TypeError
		if !errors.As(err, &terr) || len(terr.Errors) != 1 || !strings.HasPrefix(terr.Errors[0], "line 2: ") {
			t.Errorf("%q: error %v, want one type error starting with the line", bad, err)
		}
	}
	if out, _ := yaml.Marshal(v); !strings.Contains(string(out), "1m30s") {
		t.Errorf("encoded as %s", out)
	}
	if Duration(0).Or(time.Second) != time.Second || Duration(2).Or(time.Second) != 2 {
		t.Error("Or does not fall back only on zero")
	}
}

// TestBadDurationDoesNotStopDecoding decodes a document with two bad durations and a bad integer:
// every one must be reported, and the good values around them decoded.
func TestBadDurationDoesNotStopDecoding(t *testing.T) {
	var v struct {
		A Duration  `yaml:"a"`
		B *Duration `yaml:"b"`
		N int       `yaml:"n"`
		C Duration  `yaml:"c"`
	}
	err := yaml.Unmarshal([]byte("a: soon\nb: -2s\nn: many\nc: 3s\n"), &v)
	var terr *yaml.TypeError
	if !errors.As(err, &terr) {
		t.Fatalf("error %v, want a *yaml.TypeError", err)
	}
	want := []string{
		`line 1: invalid duration "soon": want a value such as 250ms, 5s or 1m`,
		`line 2: duration "-2s" is negative`,
		"line 3: cannot unmarshal !!str `many` into int",
	}
	if !reflect.DeepEqual(terr.Errors, want) {
		t.Errorf("errors:\n%q\nwant:\n%q", terr.Errors, want)
	}
	if v.C.Std() != 3*time.Second {
		t.Errorf("c = %v: the value after the bad ones was not decoded", v.C.Std())
	}
}
