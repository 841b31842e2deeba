package auth_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/admin/auth"
	"github.com/rpcbridge/rpcbridge/admin/livestats"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/kvstore/local"
)

// registeredPatterns reads every ServeMux pattern the admin packages register: each call
// X.Handle(pattern, h) or X.HandleFunc(pattern, f) in the non-test files under admin/ (but
// admin/auth), with the pattern resolved from string literals and constants (also of other
// admin packages, console.AssetsPath). A pattern that is not a constant fails the test: the
// table must be checkable, so register with constant patterns.
func registeredPatterns(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	type pkg struct{ consts map[string]ast.Expr }
	pkgs := map[string]*pkg{} // by package name
	var calls []struct {
		pkg   string
		arg   ast.Expr
		where string
	}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == "." || strings.HasSuffix(path, "testdata") || d.Name() == "static" || d.Name() == "swaggerui" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		p := pkgs[f.Name.Name]
		if p == nil {
			p = &pkg{consts: map[string]ast.Expr{}}
			pkgs[f.Name.Name] = p
		}
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							p.consts[n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			calls = append(calls, struct {
				pkg   string
				arg   ast.Expr
				where string
			}{f.Name.Name, call.Args[0], fset.Position(call.Pos()).String()})
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var eval func(pkgName string, e ast.Expr) (string, bool)
	eval = func(pkgName string, e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			if e.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.ParenExpr:
			return eval(pkgName, e.X)
		case *ast.BinaryExpr:
			if e.Op != token.ADD {
				return "", false
			}
			a, ok1 := eval(pkgName, e.X)
			b, ok2 := eval(pkgName, e.Y)
			return a + b, ok1 && ok2
		case *ast.Ident:
			if v, ok := pkgs[pkgName].consts[e.Name]; ok {
				return eval(pkgName, v)
			}
		case *ast.SelectorExpr:
			if x, ok := e.X.(*ast.Ident); ok && pkgs[x.Name] != nil {
				if v, ok := pkgs[x.Name].consts[e.Sel.Name]; ok {
					return eval(x.Name, v)
				}
			}
		}
		return "", false
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range calls {
		p, ok := eval(c.pkg, c.arg)
		if !ok {
			t.Errorf("%s: the pattern of this Handle/HandleFunc call is not a constant; TestAuthEveryEndpoint cannot check its access group", c.where)
			continue
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	if len(out) < 10 {
		t.Fatalf("found only %d admin patterns (%v): the walk is broken", len(out), out)
	}
	return out
}

var wildcardRE = regexp.MustCompile(`\{[^}]*\}`)

// requestFor builds a request that pattern serves: wildcards filled in, a subtree given a file.
func requestFor(pattern string) (method, path string) {
	method, path, found := strings.Cut(pattern, " ")
	if !found {
		method, path = "", pattern
	}
	path = strings.ReplaceAll(path, "{$}", "")
	path = wildcardRE.ReplaceAllStringFunc(path, func(w string) string {
		if strings.Contains(w, "version") {
			return "1"
		}
		return "probe"
	})
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "probe.txt"
	}
	return method, path
}

type fixture struct {
	mux     http.Handler
	seenGW  chan http.Header
	tokens  map[string]string // name → token
	handler http.Handler
}

func newFixture(t *testing.T, public ...auth.Group) *fixture {
	t.Helper()
	f := &fixture{seenGW: make(chan http.Header, 16), tokens: map[string]string{}}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.seenGW <- r.Header.Clone()
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(gw.Close)
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := livestats.New(livestats.Options{Gatherer: prometheus.NewRegistry(), Metric: "x", RouteLabel: "route", ClusterLabel: "cluster", StatusClassLabel: "class"})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := local.Open(local.Config{Dir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kv.Close() })
	f.mux = admin.Handler(admin.Options{
		Rules:       &admin.RulesOptions{Store: kv, Key: "rules/current", Validate: func([]byte) error { return nil }},
		APIKeys:     &admin.APIKeysOptions{Store: kv, Prefix: "apikeys/"},
		StoreStatus: func() store.Status { return store.Status{} },
		State:       func() admin.State { return admin.State{} },
		Ready:       func() (bool, string) { return true, "ready" },
		Metrics:     http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "# metrics\n") }),
		Store:       st,
		OpenAPI:     func(ir.Gateway, string) ([]byte, error) { return []byte(`{"openapi":"3.1.0"}`), nil },
		Stats:       stats,
		Gateway:     func() string { return strings.TrimPrefix(gw.URL, "http://") },
	})
	dir := t.TempDir()
	var tokens []auth.Token
	for _, tk := range []struct {
		name   string
		scopes []auth.Scope
	}{{"reader", []auth.Scope{auth.ScopeRead}}, {"writer", []auth.Scope{auth.ScopeWrite}}, {"both", []auth.Scope{auth.ScopeRead, auth.ScopeWrite}}} {
		value := tk.name + "-0123456789abcdef"
		file := filepath.Join(dir, tk.name)
		if err := os.WriteFile(file, []byte(value+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f.tokens[tk.name] = value
		tokens = append(tokens, auth.Token{Credential: auth.Credential{Name: tk.name, File: file}, Scopes: tk.scopes})
	}
	k, err := auth.NewKeyring(tokens, auth.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.handler = auth.Middleware(f.mux, auth.MiddlewareOptions{Keyring: k, Public: public, Logger: slog.New(slog.DiscardHandler)})
	return f
}

func (f *fixture) do(method, path, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(""))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	return w
}

// TestAuthEveryEndpoint walks every pattern the admin packages register and checks, for each,
// that the group table places it, that the request built for it reaches that very pattern,
// and the answers: no token 401 (health and console always public), a token without the scope
// 403, a token with it passes (neither 401 nor 403; 200 where the fixture has the data).
func TestAuthEveryEndpoint(t *testing.T) {
	f := newFixture(t)
	router := f.mux.(interface {
		Handler(*http.Request) (http.Handler, string)
	})
	for _, pattern := range registeredPatterns(t) {
		group, ok := auth.GroupOf(pattern)
		if !ok {
			t.Errorf("%s has no access group in admin/auth's table: add it to groups.go", pattern)
			continue
		}
		method, path := requestFor(pattern)
		methods := []string{method}
		if method == "" {
			methods = []string{http.MethodGet, http.MethodPost, http.MethodDelete}
		}
		for _, m := range methods {
			if _, got := router.Handler(httptest.NewRequest(m, path, nil)); got != pattern {
				t.Errorf("%s: the request %s %s reaches pattern %q; the test's request builder is wrong", pattern, m, path, got)
				continue
			}
			scope := auth.ScopeFor(group, m)
			name := m + " " + path
			anon := f.do(m, path, "")
			if group == auth.GroupHealth || group == auth.GroupConsole {
				if anon.Code == 401 || anon.Code == 403 {
					t.Errorf("%s (%s, always public): %d without a token", name, group, anon.Code)
				}
				continue
			}
			if anon.Code != 401 || anon.Header().Get("WWW-Authenticate") != `Bearer realm="rpcbridge"` {
				t.Errorf("%s (%s): %d %q without a token, want 401 with the Bearer challenge", name, group, anon.Code, anon.Header().Get("WWW-Authenticate"))
			}
			var body struct {
				Error struct {
					Code    int    `json:"code"`
					Status  string `json:"status"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(anon.Body.Bytes(), &body); err != nil || body.Error.Status != "unauthenticated" || body.Error.Code != 401 {
				t.Errorf("%s: 401 body %s (%v)", name, anon.Body, err)
			}
			if w := f.do(m, path, "not-a-valid-token-at-all"); w.Code != 401 {
				t.Errorf("%s: a wrong token gets %d, want 401", name, w.Code)
			}
			lacking, having := "writer", "reader"
			if scope == auth.ScopeWrite {
				lacking, having = "reader", "writer"
			}
			if w := f.do(m, path, f.tokens[lacking]); w.Code != 403 || !strings.Contains(w.Body.String(), `"forbidden"`) {
				t.Errorf("%s (%s, needs %s): token %s gets %d %s, want 403", name, group, scope, lacking, w.Code, w.Body)
			}
			for _, tk := range []string{having, "both"} {
				w := f.do(m, path, f.tokens[tk])
				if w.Code == 401 || w.Code == 403 {
					t.Errorf("%s (%s, needs %s): token %s gets %d %s", name, group, scope, tk, w.Code, w.Body)
				}
			}
		}
	}
	// Where the fixture has data the answer is the endpoint's own 200.
	for _, path := range []string{"/api/v1/catalog", "/api/v1/routes", "/api/v1/diagnostics", "/api/v1/idl", "/metrics", "/openapi.json", "/api/v1/openapi", "/api/v1/stats", "/api/v1/apikeys"} {
		if w := f.do("GET", path, f.tokens["reader"]); w.Code != 200 {
			t.Errorf("GET %s with a read token: %d %s", path, w.Code, w.Body)
		}
	}
}

// TestGatewayForwardDropsTheToken: the try-it forward needs read, and the admin token never
// reaches the gateway.
func TestGatewayForwardDropsTheToken(t *testing.T) {
	f := newFixture(t)
	if w := f.do("POST", "/gateway/greet", f.tokens["reader"]); w.Code != 200 {
		t.Fatalf("POST /gateway/greet with a read token: %d %s", w.Code, w.Body)
	}
	if h := <-f.seenGW; h.Get("Authorization") != "" {
		t.Errorf("the gateway was sent Authorization %q", h.Get("Authorization"))
	}
}

// TestPublicGroups: a public group is readable without a token, but a write still needs one;
// groups not listed stay closed.
func TestPublicGroups(t *testing.T) {
	f := newFixture(t, auth.GroupMetrics, auth.GroupIDL)
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/metrics", 200}, {"GET", "/api/v1/stats", 200}, {"GET", "/api/v1/idl", 200},
		{"DELETE", "/api/v1/idl/x", 401}, {"PUT", "/api/v1/idl/x", 401}, {"POST", "/api/v1/idl/x/rollback", 401},
		{"GET", "/api/v1/catalog", 401}, {"GET", "/healthz", 200}, {"GET", "/readyz", 200},
		{"GET", "/", 200}, {"GET", "/nowhere", 401},
	} {
		if w := f.do(c.method, c.path, ""); w.Code != c.want {
			t.Errorf("%s %s without a token: %d, want %d", c.method, c.path, w.Code, c.want)
		}
	}
	// An unknown path needs a valid token before it learns that it is a 404.
	if w := f.do("GET", "/nowhere", f.tokens["reader"]); w.Code != 404 {
		t.Errorf("GET /nowhere with a token: %d, want 404", w.Code)
	}
}

// TestUnplacedPatternIsRefused: a pattern the table does not know is closed (403) even to a
// token with every scope.
func TestUnplacedPatternIsRefused(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/secrets", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "s") })
	dir := t.TempDir()
	file := filepath.Join(dir, "t")
	if err := os.WriteFile(file, []byte("0123456789abcdef0123"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := auth.NewKeyring([]auth.Token{{Credential: auth.Credential{Name: "all", File: file}, Scopes: []auth.Scope{"read", "write"}}}, auth.KeyringOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := auth.Middleware(mux, auth.MiddlewareOptions{Keyring: k, Public: auth.Groups()})
	r := httptest.NewRequest("GET", "/api/v1/secrets", nil)
	r.Header.Set("Authorization", "Bearer 0123456789abcdef0123")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 403 {
		t.Fatalf("an endpoint without a group: %d %s, want 403", w.Code, w.Body)
	}
}
