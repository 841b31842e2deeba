package dubbojson

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
	"github.com/apache/dubbo-go-hessian2/java8_time"
	"github.com/apache/dubbo-go-hessian2/java_sql_time"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// decodeArgs checks that a prepared call is a generic invocation ($invoke: method name,
// parameter types, Object[] of raw arguments) and decodes its arguments.
func decodeArgs(t *testing.T, req dubborpc.Request) (method string, types []string, args []any) {
	t.Helper()
	if req.Method != "$invoke" || len(req.Args) != 3 || req.Attachments["generic"] != "true" {
		t.Fatalf("not a generic invocation: %s %d arguments, attachments %v", req.Method, len(req.Args), req.Attachments)
	}
	method, _ = req.Args[0].(string)
	types, _ = req.Args[1].([]string)
	objects := reflect.ValueOf(req.Args[2]) // dubborpc's Object[] list
	var all []byte
	for i := range objects.Len() {
		all = append(all, objects.Index(i).Interface().(dubborpc.RawArg)...)
	}
	dec := hessian.NewDecoder(all)
	args = make([]any, objects.Len())
	for i := range args {
		v, err := dec.Decode()
		if err != nil {
			t.Fatalf("argument %d: %v", i, err)
		}
		args[i] = v
	}
	return method, types, args
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
	method, types, args := decodeArgs(t, call)
	wantTypes := []string{"long", "java.util.List", "java.lang.String", "java.lang.Integer", "com.foo.Level"}
	if method != "m" || call.Interface != "com.foo.Svc" || call.Group != "g" || call.Version != "1.0" || !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("call %s %s %s %s %v", call.Interface, call.Group, call.Version, method, types)
	}
	if !reflect.DeepEqual(call.Attachments, map[string]string{"X-Trace": "t-1", "generic": "true"}) {
		t.Errorf("attachments %v", call.Attachments)
	}
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

// TestPrepareTemporalQuery: the java.time and java.sql values a GET route takes from the query
// string go as the typed objects a provider decodes (hessian-lite's handles, SqlDateSerializer's
// form), not as the bare strings they arrive as.
func TestPrepareTemporalQuery(t *testing.T) {
	route, err := NewRoute(Metadata{Route: ir.DubboRoute{
		Interface: "com.foo.Svc", Method: "between",
		Params: []ir.DubboParam{
			{Name: "from", Type: "java.time.ZonedDateTime", From: ir.FromQuery, Key: "from"},
			{Name: "length", Type: "java.time.Duration", From: ir.FromQuery, Key: "length"},
			{Name: "day", Type: "java.sql.Date", From: ir.FromQuery, Key: "day"},
		},
	}}, "")
	if err != nil {
		t.Fatal(err)
	}
	call, err := route.Prepare(httptest.NewRequest("GET", "/x?from=2024-10-27T02:30:00%2B01:00[Europe/Paris]&length=PT1H30M&day=2024-02-29T00:00:00Z", nil))
	if err != nil {
		t.Fatal(err)
	}
	_, types, args := decodeArgs(t, call)
	if want := []string{"java.time.ZonedDateTime", "java.time.Duration", "java.sql.Date"}; !reflect.DeepEqual(types, want) {
		t.Errorf("parameter types %v, want %v", types, want)
	}
	zoned, ok := args[0].(*java8_time.ZonedDateTime)
	if !ok || zoned.ZoneId != "Europe/Paris" || zoned.Offset.Seconds != 3600 || zoned.DateTime.Time.Hour != 2 {
		t.Errorf("ZonedDateTime argument %#v", args[0])
	}
	if d, ok := args[1].(*java8_time.Duration); !ok || d.Seconds != 5400 || d.Nanos != 0 {
		t.Errorf("Duration argument %#v", args[1])
	}
	if d, ok := args[2].(*java_sql_time.Date); !ok || !d.Time.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("java.sql.Date argument %#v", args[2])
	}
}
