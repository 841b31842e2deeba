package config

import (
	"slices"
	"strings"
	"testing"
)

// TestAdminListenOffLoopbackNeedsTokens: an admin API reachable from other hosts without tokens
// is a configuration error at admin.listen's line; with tokens it is fine.
func TestAdminListenOffLoopbackNeedsTokens(t *testing.T) {
	for _, listen := range []string{"0.0.0.0:19901", ":19901", "10.1.2.3:19901", "[::]:19901"} {
		doc := "dataDir: ./d\nadmin:\n  listen: \"" + listen + "\"\n"
		want := []string{`f.yaml:3: admin.listen: admin.listen ` + listen +
			` is reachable from other hosts: set admin.auth.tokens (docs/security.md) or listen on a loopback address`}
		if got := problems(t, doc); !slices.Equal(got, want) {
			t.Errorf("%s: problems:\n%s\nwant:\n%s", listen, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	for _, doc := range []string{
		"dataDir: ./d\nadmin:\n  listen: 127.0.0.1:19901\n",
		"dataDir: ./d\nadmin:\n  listen: \"[::1]:19901\"\n",
		"dataDir: ./d\nadmin:\n  listen: localhost:19901\n",
		"dataDir: ./d\nadmin:\n  listen: 0.0.0.0:19901\n  auth:\n    tokens: [{name: ci, scopes: [write], file: /t}]\n",
	} {
		if _, err := Parse("f.yaml", []byte(doc)); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
	}
}

func TestAuthProblems(t *testing.T) {
	const doc = `dataDir: ./d
admin:
  auth:
    tokens:
      - {name: ci, scopes: [read, admin], file: /a}
      - {name: ci, scopes: [], env: X}
      - {name: "bad name", scopes: [read]}
      - {name: both, scopes: [read], file: /a, env: X}
    public: [metrics, everything]
xds:
  auth:
    tokens:
      - {name: gw, scopes: [read], file: /x}
`
	want := []string{
		`f.yaml:5: admin.auth.tokens[0].scopes[1]: scope "admin": want read or write`,
		`f.yaml:6: admin.auth.tokens[1].scopes: a token needs at least one scope: read, write`,
		`f.yaml:6: admin.auth.tokens[1].name: token "ci" is already defined at tokens[0]`,
		`f.yaml:7: admin.auth.tokens[2].name: token name "bad name": want letters, digits, '.', '_' or '-'`,
		`f.yaml:7: admin.auth.tokens[2]: set file or env: where the token is read from`,
		`f.yaml:8: admin.auth.tokens[3]: set file or env, not both`,
		`f.yaml:9: admin.auth.public[1]: group "everything": want one of [health metrics console catalog routes openapi idl rules apikeys gateway]`,
		`f.yaml:13: xds.auth.tokens[0].scopes: unknown key "scopes"`,
	}
	if got := problems(t, doc); !slices.Equal(got, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
