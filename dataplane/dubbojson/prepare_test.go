package dubbojson

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	hessian "github.com/apache/dubbo-go-hessian2"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// decodeArgs decodes the raw arguments of a prepared call.
func decodeArgs(t *testing.T, req dubborpc.Request) []any {
	t.Helper()
	var all []byte
	for _, a := range req.Args {
		all = append(all, a.(dubborpc.RawArg)...)
	}
	dec := hessian.NewDecoder(all)
	out := make([]any, len(req.Args))
	for i := range out {
		v, err := dec.Decode()
		if err != nil {
			t.Fatalf("argument %d: %v", i, err)
		}
		out[i] = v
	}
	return out
}

func TestPrepare(t *testing.T) {
	route, err := NewRoute(Metadata{Route: ir.DubboRoute{
		Interface: "com.foo.Svc", Version: "1.0", Group: "g", Method: "m",
		Params: []ir.DubboParam{
			{Name: "id", Type: "long", From: ir.FromPath, Key: "id"},
			{Name: "tags", Type: "java.util.List<String>", From: ir.FromQuery, Key: "tag"},
			{Name: "tenant", Type: "java.lang.String", From: ir.FromHeader, Key: "X-Tenant"},
			{Name: "count", Type: "java.lang.Integer", From: ir.FromBody, Key: "count"},
			{Name: "level", Type: "com.foo.Level", From: ir.FromBody, Key: "level"},
		},
		Returns: "void", Attachments: []string{"X-Trace"},
	}, JavaClasses: []ir.JavaClass{testClasses["com.foo.Level"]}}, "/items/{id}")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/items/7?tag=a&tag=b", strings.NewReader(`{"count":3,"level":"GOLD"}`))
	req.Header.Set("X-Tenant", "acme")
	req.Header.Set("X-Trace", "t-1")
	req.Header.Set("X-Other", "no")
	call, err := route.Prepare(req)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{"long", "java.util.List", "java.lang.String", "java.lang.Integer", "com.foo.Level"}
	if call.Method != "m" || call.Interface != "com.foo.Svc" || call.Group != "g" || !reflect.DeepEqual(call.ParamTypes, wantTypes) {
		t.Errorf("call %s %s %s %v", call.Interface, call.Group, call.Method, call.ParamTypes)
	}
	if !reflect.DeepEqual(call.Attachments, map[string]string{"X-Trace": "t-1"}) {
		t.Errorf("attachments %v", call.Attachments)
	}
	args := decodeArgs(t, call)
	if args[0] != int64(7) || !reflect.DeepEqual(args[1], []any{"a", "b"}) || args[2] != "acme" || args[3] != int32(3) {
		t.Errorf("args %#v", args)
	}
	if level, ok := stringKeyed(args[4]); !ok || level["name"] != "GOLD" {
		t.Errorf("enum argument %#v", args[4])
	}

	for _, c := range []struct{ target, body, want string }{
		{"/items/x?tag=a", `{"count":1,"level":"GOLD"}`, `argument id (long, from path "id"): "x" is not a long`},
		{"/items/1", `{"count":1,"level":"GOLD"}`, `argument tags (java.util.List<String>, from query "tag"): missing`},
		{"/items/1?tag=a", `{"level":"GOLD"}`, `argument count (java.lang.Integer, from body "count"): missing`},
		{"/items/1?tag=a", `{"count":1`, `body is not JSON`},
	} {
		r := httptest.NewRequest("POST", c.target, strings.NewReader(c.body))
		r.Header.Set("X-Tenant", "acme")
		_, err := route.Prepare(r)
		re, ok := err.(*RequestError)
		if !ok || re.Status != 400 || !strings.Contains(re.Message, c.want) {
			t.Errorf("%s %s: %v, want 400 containing %q", c.target, c.body, err, c.want)
		}
	}
}
