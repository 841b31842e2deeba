package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/idl/java"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/idl/upload"
)

// greeter is a proto upload whose reply message has one field, named as given.
func greeter(method string) string {
	return `syntax = "proto3";
package greet.v1;
service Greeter {
  rpc SayHello(HelloRequest) returns (HelloReply);
  rpc ` + method + `(HelloRequest) returns (HelloReply);
}
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
`
}

// api is an admin API over a real store in a temporary directory.
type api struct {
	t   *testing.T
	srv *httptest.Server
}

func newAPI(t *testing.T, opts admin.Options) *api {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{Validators: map[store.Kind]store.Validator{store.KindJavaSource: java.ParseSources}})
	if err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.Limits = st, upload.DefaultLimits()
	if opts.State == nil {
		opts.State = func() admin.State { return admin.State{} }
	}
	opts.Ready = func() (bool, string) { return true, "ready" }
	srv := httptest.NewServer(admin.Handler(opts))
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv}
}

// do sends a request and decodes the JSON answer into out (when not nil); it returns the status.
func (a *api) do(method, path, ctype string, body io.Reader, out any) int {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			a.t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

func (a *api) putProto(name, src string) int {
	return a.do("PUT", "/api/v1/idl/"+name+"?filename=greeter.proto", "text/plain", strings.NewReader(src), nil)
}

type errorAnswer struct {
	Error struct {
		Status   string `json:"status"`
		Message  string `json:"message"`
		Problems []struct {
			File    string `json:"file"`
			Line    int    `json:"line"`
			Column  int    `json:"column"`
			Message string `json:"message"`
		} `json:"problems"`
	} `json:"error"`
}

func TestVersionsDiffRollback(t *testing.T) {
	a := newAPI(t, admin.Options{})
	for _, m := range []string{"Wave", "Farewell"} {
		if code := a.putProto("greeter", greeter(m)); code != http.StatusOK {
			t.Fatalf("upload: %d", code)
		}
	}
	var versions struct {
		Current  int64 `json:"current"`
		Versions []struct {
			Version int64    `json:"version"`
			Kind    string   `json:"kind"`
			Files   []string `json:"files"`
		} `json:"versions"`
	}
	if code := a.do("GET", "/api/v1/idl/greeter/versions", "", nil, &versions); code != 200 || versions.Current != 2 ||
		len(versions.Versions) != 2 || versions.Versions[1].Version != 1 || versions.Versions[0].Kind != "proto" {
		t.Fatalf("versions: %d %+v", code, versions)
	}
	var one struct {
		Version int64 `json:"version"`
		Summary struct {
			Services []struct {
				Name    string `json:"name"`
				Methods []struct {
					Key string `json:"key"`
				} `json:"methods"`
			} `json:"services"`
		} `json:"summary"`
	}
	if code := a.do("GET", "/api/v1/idl/greeter/versions/1", "", nil, &one); code != 200 || one.Version != 1 ||
		len(one.Summary.Services) != 1 || fmt.Sprint(one.Summary.Services[0].Methods) != "[{SayHello} {Wave}]" {
		t.Fatalf("version 1: %d %+v", code, one)
	}
	var diff struct {
		From, To int64
		Diff     struct {
			Methods []struct{ Kind, Name string } `json:"methods"`
		} `json:"diff"`
	}
	if code := a.do("GET", "/api/v1/idl/greeter/diff?from=1", "", nil, &diff); code != 200 || diff.To != 2 ||
		fmt.Sprint(diff.Diff.Methods) != "[{added greet.v1.Greeter.Farewell} {removed greet.v1.Greeter.Wave}]" {
		t.Fatalf("diff 1 → current: %d %+v", code, diff)
	}

	// Rollback needs a JSON body (a cross-site form cannot send one without a preflight).
	if code := a.do("POST", "/api/v1/idl/greeter/rollback", "application/x-www-form-urlencoded", strings.NewReader("version=1"), nil); code != http.StatusUnsupportedMediaType {
		t.Errorf("rollback as a form: %d, want 415", code)
	}
	var stored struct {
		Version, RestoredFrom int64
	}
	if code := a.do("POST", "/api/v1/idl/greeter/rollback", "application/json", strings.NewReader(`{"version": 1}`), &stored); code != 200 ||
		stored.Version != 3 || stored.RestoredFrom != 1 {
		t.Fatalf("rollback: %d %+v", code, stored)
	}
	if code := a.do("GET", "/api/v1/idl/greeter/diff?from=1&to=3", "", nil, &diff); code != 200 || len(diff.Diff.Methods) != 0 {
		t.Errorf("v3 restores v1, yet they differ: %+v", diff)
	}
	var e errorAnswer
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/api/v1/idl/greeter/rollback", `{"version": 3}`, http.StatusConflict},
		{"POST", "/api/v1/idl/greeter/rollback", `{"version": 99}`, http.StatusNotFound},
		{"POST", "/api/v1/idl/greeter/rollback", `{"version": "one"}`, http.StatusBadRequest},
		{"GET", "/api/v1/idl/greeter/versions/x", "", http.StatusBadRequest},
		{"GET", "/api/v1/idl/greeter/versions/99", "", http.StatusNotFound},
		{"GET", "/api/v1/idl/greeter/diff", "", http.StatusBadRequest},
		{"GET", "/api/v1/idl/nosuch/versions", "", http.StatusNotFound},
	} {
		var body io.Reader
		if c.body != "" {
			body = strings.NewReader(c.body)
		}
		if code := a.do(c.method, c.path, "application/json", body, &e); code != c.want || e.Error.Message == "" {
			t.Errorf("%s %s %s: %d %+v, want %d with a message", c.method, c.path, c.body, code, e, c.want)
		}
	}
}

// TestUploadForms checks the upload forms the console sends: a multipart form keeps each part's
// path (not only its base name), the kind is inferred from the file names, and a Java source
// error comes back as a problem with file, line and column.
func TestUploadForms(t *testing.T) {
	a := newAPI(t, admin.Options{})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for path, src := range map[string]string{
		"greet/v1/greeter.proto": `syntax = "proto3"; package greet.v1; import "greet/v1/types.proto"; service G { rpc Hi(M) returns (M); }`,
		"greet/v1/types.proto":   `syntax = "proto3"; package greet.v1; message M {}`,
	} {
		w, err := mw.CreateFormFile("file", path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, src)
	}
	_ = mw.Close()
	var stored struct {
		Kind  string `json:"kind"`
		Files int    `json:"files"`
	}
	if code := a.do("PUT", "/api/v1/idl/nested", mw.FormDataContentType(), &buf, &stored); code != 200 || stored.Kind != "proto" || stored.Files != 2 {
		t.Fatalf("multipart upload with an import by path: %d %+v", code, stored)
	}
	var entry struct {
		Files []string `json:"files"`
	}
	if a.do("GET", "/api/v1/idl/nested", "", nil, &entry); fmt.Sprint(entry.Files) != "[greet/v1/greeter.proto greet/v1/types.proto]" {
		t.Errorf("stored paths = %v", entry.Files)
	}

	var e errorAnswer
	broken := "package com.example;\npublic interface Users {\n  User find(long id)\n}\n"
	code := a.do("PUT", "/api/v1/idl/users?filename=Users.java", "text/plain", strings.NewReader(broken), &e)
	if code != http.StatusUnprocessableEntity || len(e.Error.Problems) != 1 {
		t.Fatalf("broken Java source: %d %+v", code, e)
	}
	if p := e.Error.Problems[0]; p.File != "Users.java" || p.Line != 4 || p.Column != 1 || p.Message == "" {
		t.Errorf("problem = %+v, want Users.java:4:1 (the } where ; belongs)", p)
	}
	if code := a.do("PUT", "/api/v1/idl/notes?filename=notes.txt", "text/plain", strings.NewReader("x"), &e); code != http.StatusBadRequest || e.Error.Status != "missing_kind" {
		t.Errorf("upload of an unknown kind: %d %+v", code, e)
	}
}

// TestOpenAPIPerService serves the whole document and one per service, and lists them.
func TestOpenAPIPerService(t *testing.T) {
	g := ir.Gateway{Routes: []ir.Route{
		{Name: "a", Match: ir.Match{Path: "/a", Methods: []string{"GET"}}, Cluster: "http:a"},
		{Name: "b", Match: ir.Match{Path: "/b", Methods: []string{"GET"}}, Cluster: "http:b"},
	}}
	var rendered []string
	a := newAPI(t, admin.Options{
		State: func() admin.State { return admin.State{Gateway: g} },
		OpenAPI: func(g ir.Gateway, service string) ([]byte, error) {
			var paths []string
			for _, r := range g.Routes {
				paths = append(paths, r.Match.Path)
			}
			rendered = append(rendered, service)
			return json.Marshal(map[string]any{"service": service, "paths": paths})
		},
		Gateway: func() string { return "127.0.0.1:1" },
	})
	var docs struct {
		Documents   []struct{ Service, URL string } `json:"documents"`
		GatewayPath string                          `json:"gatewayPath"`
	}
	if code := a.do("GET", "/api/v1/openapi", "", nil, &docs); code != 200 || len(docs.Documents) != 3 || docs.GatewayPath != admin.GatewayPath {
		t.Fatalf("documents: %d %+v", code, docs)
	}
	for _, d := range docs.Documents {
		var doc struct {
			Service string   `json:"service"`
			Paths   []string `json:"paths"`
		}
		if code := a.do("GET", d.URL, "", nil, &doc); code != 200 || doc.Service != d.Service {
			t.Fatalf("GET %s: %d %+v", d.URL, code, doc)
		}
		want := "[/a /b]"
		if d.Service != "" {
			want = "[/" + strings.TrimPrefix(d.Service, "http:") + "]"
		}
		if fmt.Sprint(doc.Paths) != want {
			t.Errorf("document of %q has paths %v, want %s", d.Service, doc.Paths, want)
		}
	}
	if code := a.do("GET", "/openapi.json?service="+url.QueryEscape("http:nosuch"), "", nil, nil); code != http.StatusNotFound {
		t.Errorf("document of a service without routes: %d, want 404", code)
	}
}

// TestGatewayForward checks that GatewayPath reaches the gateway's address only, with the
// prefix removed, the query and body kept and X-Forwarded-* added, and passes the answer back.
func TestGatewayForward(t *testing.T) {
	var got *http.Request
	var gotBody string
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got, gotBody = r, string(b)
		w.Header().Set("X-Answer", "yes")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, `{"from":"gateway"}`)
	}))
	defer gateway.Close()
	addr := gateway.Listener.Addr().String()
	a := newAPI(t, admin.Options{Gateway: func() string { return addr }})

	req, _ := http.NewRequest("POST", a.srv.URL+"/gateway/greetings/Ada%2Fx?times=2", strings.NewReader(`{"a":1}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Answer") != "yes" || string(body) != `{"from":"gateway"}` {
		t.Fatalf("answer %d %q %q", resp.StatusCode, resp.Header.Get("X-Answer"), body)
	}
	if got.URL.EscapedPath() != "/greetings/Ada%2Fx" || got.URL.RawQuery != "times=2" || gotBody != `{"a":1}` || got.Method != "POST" {
		t.Errorf("gateway got %s %s?%s %q", got.Method, got.URL.EscapedPath(), got.URL.RawQuery, gotBody)
	}
	if got.Host != addr || got.Header.Get("X-Forwarded-Host") == "" || got.Header.Get("X-Forwarded-For") == "" {
		t.Errorf("gateway got Host %q, X-Forwarded-Host %q, X-Forwarded-For %q", got.Host, got.Header.Get("X-Forwarded-Host"), got.Header.Get("X-Forwarded-For"))
	}

	// A request naming another host still goes to the gateway: the forward is not a proxy.
	req, _ = http.NewRequest("GET", a.srv.URL+"/gateway/x", nil)
	req.Host = "evil.example:80"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusTeapot || got.Host != addr {
		t.Errorf("a request with Host evil.example reached %q (%v)", got.Host, err)
	}

	down := newAPI(t, admin.Options{Gateway: func() string { return "" }})
	var e errorAnswer
	if code := down.do("GET", "/gateway/x", "", nil, &e); code != http.StatusServiceUnavailable || e.Error.Status != "gateway_unavailable" {
		t.Errorf("forward while the gateway does not listen: %d %+v", code, e)
	}
	if code := newAPI(t, admin.Options{}).do("GET", "/gateway/x", "", nil, nil); code != http.StatusNotFound {
		t.Errorf("forward with the gateway off: %d, want 404", code)
	}
}
