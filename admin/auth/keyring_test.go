package auth_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/internal/secret"
)

// clock is a settable time.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestRotateByRewritingTheFile: a rewritten token file replaces its token once the reload
// interval passed; an unreadable file refuses the token (fail closed) until it is back; env
// tokens stay as read at start. The logs name the token, never its value.
func TestRotateByRewritingTheFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ci")
	write := func(v string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first-token-0123456789")
	t.Setenv("AUTH_TEST_TOKEN", "env-token-0123456789")
	var logs bytes.Buffer
	c := &clock{t: time.Unix(1000, 0)}
	k, err := auth.NewKeyring([]auth.Token{
		{Credential: auth.Credential{Name: "ci", File: file}, Scopes: []auth.Scope{auth.ScopeWrite}},
		{Credential: auth.Credential{Name: "prom", Env: "AUTH_TEST_TOKEN"}, Scopes: []auth.Scope{auth.ScopeRead}},
	}, auth.KeyringOptions{Now: c.now, ReloadInterval: time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	want := func(token, name string) {
		t.Helper()
		id, ok := k.Authenticate(token)
		if name == "" && ok {
			t.Errorf("%q accepted as %q, want refused", token, id.Name)
		}
		if name != "" && (!ok || id.Name != name) {
			t.Errorf("%q: %q %v, want %q", token, id.Name, ok, name)
		}
	}
	want("first-token-0123456789", "ci")
	want("env-token-0123456789", "prom")
	want("", "")
	want("first-token-012345678", "")

	write("second-token-0123456789")
	want("first-token-0123456789", "ci") // within the interval: not read again yet
	c.t = c.t.Add(time.Second)
	want("first-token-0123456789", "")
	want("second-token-0123456789", "ci")

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Second)
	want("second-token-0123456789", "")
	want("env-token-0123456789", "prom")
	write("third-token-0123456789")
	c.t = c.t.Add(time.Second)
	want("third-token-0123456789", "ci")
	t.Setenv("AUTH_TEST_TOKEN", "changed-env-0123456789")
	c.t = c.t.Add(time.Second)
	want("env-token-0123456789", "prom")

	out := logs.String()
	if !strings.Contains(out, "token file unreadable") || !strings.Contains(out, "token=ci") {
		t.Errorf("logs lack the unreadable file:\n%s", out)
	}
	for _, secret := range []string{"first-token", "second-token", "third-token", "env-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain a token:\n%s", out)
		}
	}
}

func TestKeyringRefusesBadTokens(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	for f, v := range map[string]string{short: "abc", a: "same-value-0123456789", b: "same-value-0123456789"} {
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tok := func(name string, ref secret.Ref) auth.Token {
		return auth.Token{Credential: auth.Credential{Name: name, File: ref.File, Env: ref.Env}, Scopes: []auth.Scope{auth.ScopeRead}}
	}
	for _, c := range []struct {
		tokens []auth.Token
		want   string
	}{
		{[]auth.Token{tok("s", secret.Ref{File: short})}, `token "s" from file ` + short + `: 3 characters, want at least 16`},
		{[]auth.Token{tok("a", secret.Ref{File: a}), tok("b", secret.Ref{File: b})}, `tokens "a" and "b" have the same value`},
		{[]auth.Token{tok("m", secret.Ref{File: filepath.Join(dir, "missing")})}, `token "m": read credential`},
		{[]auth.Token{tok("e", secret.Ref{Env: "AUTH_TEST_UNSET_VARIABLE"})}, `environment variable AUTH_TEST_UNSET_VARIABLE is not set`},
	} {
		_, err := auth.NewKeyring(c.tokens, auth.KeyringOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewKeyring: %v, want %q", err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "same-value") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}
