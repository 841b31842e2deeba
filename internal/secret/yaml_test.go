package secret

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestInlineCredentialIsRefused: a plain string is refused without repeating it; an unknown key
// is an unknown key; {file} and {env} decode.
func TestInlineCredentialIsRefused(t *testing.T) {
	var v struct {
		Token Ref `yaml:"token"`
	}
	err := yaml.Unmarshal([]byte("token: hunter2-secret\n"), &v)
	if err == nil || !strings.Contains(err.Error(), "line 1: a credential is never written in the configuration") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("inline string: %v", err)
	}
	if err := yaml.Unmarshal([]byte("token: {file: /a, path: /b}\n"), &v); err == nil || !strings.Contains(err.Error(), "field path not found in type secret.Ref") {
		t.Errorf("unknown key: %v", err)
	}
	for doc, want := range map[string]Ref{"token: {file: /a}\n": {File: "/a"}, "token: {env: X}\n": {Env: "X"}, "token:\n": {}} {
		v.Token = Ref{}
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil || v.Token != want {
			t.Errorf("%q: %+v %v, want %+v", doc, v.Token, err, want)
		}
	}
}
