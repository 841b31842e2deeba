package dubbojson

import (
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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

// TestPrepareRefuses: what no provider could decode is a 400 before anything is sent, a body
// over the providers' payload limit a 413, and the limit goes with the call for dubborpc.
func TestPrepareRefuses(t *testing.T) {
	route, err := NewRoute(Metadata{Route: ir.DubboRoute{
		Interface: "com.foo.Svc", Method: "m", PayloadLimit: 64,
		Params: []ir.DubboParam{
			{Name: "name", Type: "java.lang.String", From: ir.FromQuery, Key: "name"},
			{Name: "who", Type: "java.lang.String", From: ir.FromHeader, Key: "X-Who"},
			{Name: "amount", Type: "java.math.BigDecimal", From: ir.FromBody, Key: "amount"},
			{Name: "note", Type: "java.lang.Object", From: ir.FromBody, Key: "note"},
		},
		Returns: "void",
	}, Values: ir.DubboValueLimits{MaxDecimalDigits: 5}}, "/m")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, query, header, body string
		status                    int
		want                      string
	}{
		{"fine", "name=a", "b", `{"amount":"1.5","note":null}`, 0, ""},
		{"decimal over the configured digits", "name=a", "b", `{"amount":123456}`, 400, `argument amount (java.math.BigDecimal, from body "amount"): "123456" has 6 significant digits: at most 5`},
		{"decimal exponent", "name=a", "b", `{"amount":1e999999999}`, 400, `has scale -999999999`},
		{"invalid UTF-8 in the body", "name=a", "b", "{\"note\":\"\xff\"}", 400, "body: invalid UTF-8 at byte 9"},
		{"lone surrogate in the body", "name=a", "b", `{"note":"\ud800"}`, 400, `body: unpaired UTF-16 surrogate \ud800 at byte 9`},
		{"lone low surrogate in the body", "name=a", "b", `{"note":"x\udc00\ud83d\ude00"}`, 400, `unpaired UTF-16 surrogate \udc00 at byte 10`},
		{"surrogate pair in the body", "name=a", "b", `{"amount":1,"note":"\ud83d\ude00 \\ud800"}`, 0, ""},
		{"invalid UTF-8 in the query", "name=%FF", "b", `{}`, 400, `argument name (java.lang.String, from query "name"): "\xff" is not valid UTF-8 (byte 0)`},
		{"invalid UTF-8 in a header", "name=a", "\xc3(", `{}`, 400, `argument who (java.lang.String, from header "X-Who"): "\xc3(" is not valid UTF-8 (byte 0)`},
		{"body over the payload limit", "name=a", "b", `{"note":"` + strings.Repeat("x", 60) + `"}`, 413, "request body is larger than 64 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/m?"+c.query, strings.NewReader(c.body))
			req.Header.Set("X-Who", c.header)
			call, err := route.Prepare(req)
			var rejected *RequestError
			switch {
			case c.status == 0 && err != nil:
				t.Fatalf("Prepare: %v", err)
			case c.status == 0 && call.PayloadLimit != 64:
				t.Errorf("the call carries payload limit %d, want the route's 64", call.PayloadLimit)
			case c.status != 0 && (!errors.As(err, &rejected) || rejected.Status != c.status || !strings.Contains(rejected.Message, c.want)):
				t.Errorf("Prepare = %v; want %d %q", err, c.status, c.want)
			}
		})
	}
	// A Content-Length over the limit is refused before the body is read.
	req := httptest.NewRequest("POST", "/m?name=a", iotest.ErrReader(errors.New("the body was read")))
	req.ContentLength = 65
	var rejected *RequestError
	if _, err := route.Prepare(req); !errors.As(err, &rejected) || rejected.Status != 413 {
		t.Errorf("Content-Length 65 over a limit of 64: %v", err)
	}
}
