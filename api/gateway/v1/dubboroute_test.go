package gatewayv1_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	xdstypev3 "github.com/cncf/xds/go/xds/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/google/go-cmp/cmp"

	gatewayv1 "github.com/rpcbridge/rpcbridge/api/gateway/v1"
)

// fullRoute sets every field of the message, so that a round trip that drops one fails.
func fullRoute() *gatewayv1.DubboRoute {
	return &gatewayv1.DubboRoute{
		Interface: "com.foo.Users", Version: "1.0.0", Group: "blue", Method: "update",
		Params: []*gatewayv1.DubboParam{
			{Name: "id", Type: "long", Source: gatewayv1.ParamSource_PARAM_SOURCE_PATH, Key: "id"},
			{Name: "q", Type: "java.lang.String", Source: gatewayv1.ParamSource_PARAM_SOURCE_QUERY, Key: "q"},
			{Name: "tenant", Type: "java.lang.String", Source: gatewayv1.ParamSource_PARAM_SOURCE_HEADER, Key: "X-Tenant"},
			{Name: "tags", Type: "java.util.List<java.lang.String>", Source: gatewayv1.ParamSource_PARAM_SOURCE_BODY, Key: "tags"},
			{Name: "user", Type: "com.foo.Box<com.foo.User>", Source: gatewayv1.ParamSource_PARAM_SOURCE_WHOLE_BODY},
		},
		Returns:      "com.foo.User",
		Attachments:  []string{"X-Trace"},
		Timeout:      durationpb.New(1500 * time.Millisecond),
		PathTemplate: "/users/{id}",
		JavaClasses: []*gatewayv1.JavaClass{
			{Name: "com.foo.Box", TypeParams: []string{"T"}, Fields: []*gatewayv1.JavaField{{Name: "value", Type: "T"}}},
			{Name: "com.foo.Role", IsEnum: true, Constants: []string{"ADMIN", "USER"}},
			{Name: "com.foo.User", Fields: []*gatewayv1.JavaField{{Name: "name", Type: "java.lang.String"}, {Name: "role", Type: "com.foo.Role"}}},
		},
	}
}

func TestDubboRouteRoundTrip(t *testing.T) {
	want := fullRoute()
	packed, err := gatewayv1.MarshalDubboRoute(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := gatewayv1.UnmarshalDubboRoute(packed)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("round trip through the TypedStruct changed the route (-want +got):\n%s", diff)
	}

	binary, err := anypb.New(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err = gatewayv1.UnmarshalDubboRoute(binary)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("round trip through the binary Any changed the route (-want +got):\n%s", diff)
	}
}

// TestMarshalDubboRouteWireForm pins what Envoy sees: a TypedStruct naming the v1 type, proto
// field names, the timeout as a JSON duration string, equal bytes for equal routes.
func TestMarshalDubboRouteWireForm(t *testing.T) {
	a, err := gatewayv1.MarshalDubboRoute(fullRoute())
	if err != nil {
		t.Fatal(err)
	}
	again, err := gatewayv1.MarshalDubboRoute(fullRoute())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.GetValue(), again.GetValue()) {
		t.Error("two marshals of equal routes differ")
	}
	ts := &xdstypev3.TypedStruct{}
	if err := a.UnmarshalTo(ts); err != nil {
		t.Fatalf("not a TypedStruct (%s): %v", a.GetTypeUrl(), err)
	}
	if ts.GetTypeUrl() != "type.googleapis.com/rpcbridge.gateway.v1.DubboRoute" {
		t.Errorf("type_url %q", ts.GetTypeUrl())
	}
	fields := ts.GetValue().GetFields()
	if fields["path_template"].GetStringValue() != "/users/{id}" || fields["timeout"].GetStringValue() != "1.500s" {
		t.Errorf("value %v: want proto field names and a duration string", ts.GetValue())
	}
	if got := fields["params"].GetListValue().GetValues()[0].GetStructValue().GetFields()["source"].GetStringValue(); got != "PARAM_SOURCE_PATH" {
		t.Errorf("param source %q, want the enum name", got)
	}
}

// typedStruct wraps a JSON-like value in a TypedStruct Any of typeURL.
func typedStruct(t *testing.T, typeURL string, value map[string]any) *anypb.Any {
	t.Helper()
	v, err := structpb.NewStruct(value)
	if err != nil {
		t.Fatal(err)
	}
	a, err := anypb.New(&xdstypev3.TypedStruct{TypeUrl: typeURL, Value: v})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestUnmarshalDubboRouteRefusesWhatItDoesNotRead: another version, another type, a parameter
// source added after v1 (as a number in binary, as a name in JSON) and an unset source are
// UnsupportedErrors that name the problem; they are never decoded into a route.
func TestUnmarshalDubboRouteRefusesWhatItDoesNotRead(t *testing.T) {
	base := map[string]any{"interface": "com.foo.Users", "method": "get"}
	newerSource := fullRoute()
	newerSource.Params[0].Source = gatewayv1.ParamSource(9)
	newerBinary, err := anypb.New(newerSource)
	if err != nil {
		t.Fatal(err)
	}
	v2Binary := &anypb.Any{TypeUrl: "type.googleapis.com/rpcbridge.gateway.v2.DubboRoute", Value: []byte{0x0a, 0x01, 'x'}}
	for _, tc := range []struct {
		name string
		in   *anypb.Any
		want string
	}{
		{"v2 typed struct", typedStruct(t, "type.googleapis.com/rpcbridge.gateway.v2.DubboRoute", base), "rpcbridge.gateway.v2.DubboRoute"},
		{"v2 binary", v2Binary, "rpcbridge.gateway.v2.DubboRoute"},
		{"other type", typedStruct(t, "type.googleapis.com/acme.Route", base), "acme.Route"},
		{"struct", mustAny(t, &structpb.Struct{}), "google.protobuf.Struct"},
		{"newer source, binary", newerBinary, "source 9"},
		{"newer source, json", typedStruct(t, gatewayv1.DubboRouteTypeURL, map[string]any{
			"interface": "com.foo.Users", "method": "get",
			"params": []any{map[string]any{"name": "c", "type": "java.lang.String", "source": "PARAM_SOURCE_COOKIE", "key": "c"}},
		}), "PARAM_SOURCE_UNSPECIFIED"},
		{"unset source", typedStruct(t, gatewayv1.DubboRouteTypeURL, map[string]any{
			"interface": "com.foo.Users", "method": "get",
			"params": []any{map[string]any{"name": "c", "type": "java.lang.String", "key": "c"}},
		}), "unset or unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := gatewayv1.UnmarshalDubboRoute(tc.in)
			var unsupported *gatewayv1.UnsupportedError
			if !errors.As(err, &unsupported) {
				t.Fatalf("UnmarshalDubboRoute = %v, %v; want an UnsupportedError", r, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

// TestUnmarshalDubboRouteIgnoresAddedFields: a field added to v1 later is ignored, as protobuf
// ignores unknown fields, in both encodings.
func TestUnmarshalDubboRouteIgnoresAddedFields(t *testing.T) {
	r, err := gatewayv1.UnmarshalDubboRoute(typedStruct(t, gatewayv1.DubboRouteTypeURL, map[string]any{
		"interface": "com.foo.Users", "method": "get", "retry_budget": 3,
	}))
	if err != nil || r.GetInterface() != "com.foo.Users" {
		t.Fatalf("JSON with an added field: %v, %v", r, err)
	}
	raw, err := proto.Marshal(fullRoute())
	if err != nil {
		t.Fatal(err)
	}
	raw = append(raw, 0xf8, 0x06, 0x01) // field 111, varint 1
	r, err = gatewayv1.UnmarshalDubboRoute(&anypb.Any{TypeUrl: gatewayv1.DubboRouteTypeURL, Value: raw})
	if err != nil || r.GetMethod() != "update" {
		t.Fatalf("binary with an added field: %v, %v", r, err)
	}
}

// TestUnmarshalDubboRouteRejectsMalformed: a message of the right version that is wrong is a
// plain error (the configuration is invalid), not an UnsupportedError.
func TestUnmarshalDubboRouteRejectsMalformed(t *testing.T) {
	for name, in := range map[string]*anypb.Any{
		"no method":        typedStruct(t, gatewayv1.DubboRouteTypeURL, map[string]any{"interface": "com.foo.Users"}),
		"wrong json type":  typedStruct(t, gatewayv1.DubboRouteTypeURL, map[string]any{"interface": "com.foo.Users", "method": "get", "params": "x"}),
		"negative timeout": typedStruct(t, gatewayv1.DubboRouteTypeURL, map[string]any{"interface": "i", "method": "m", "timeout": "-1s"}),
		"missing key": typedStruct(t, gatewayv1.DubboRouteTypeURL, map[string]any{"interface": "i", "method": "m",
			"params": []any{map[string]any{"name": "q", "type": "int", "source": "PARAM_SOURCE_QUERY"}}}),
		"bad bytes": {TypeUrl: gatewayv1.DubboRouteTypeURL, Value: []byte{0xff}},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := gatewayv1.UnmarshalDubboRoute(in)
			var unsupported *gatewayv1.UnsupportedError
			if err == nil || errors.As(err, &unsupported) {
				t.Fatalf("UnmarshalDubboRoute = %v, %v; want a plain error", r, err)
			}
		})
	}
	if _, err := gatewayv1.MarshalDubboRoute(&gatewayv1.DubboRoute{Interface: "i"}); err == nil {
		t.Error("MarshalDubboRoute accepted a route without a method")
	}
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDubboRouteTypeURL checks the constant against the generated descriptor.
func TestDubboRouteTypeURL(t *testing.T) {
	a, err := anypb.New(&gatewayv1.DubboRoute{})
	if err != nil {
		t.Fatal(err)
	}
	if a.GetTypeUrl() != gatewayv1.DubboRouteTypeURL {
		t.Errorf("DubboRouteTypeURL = %q, the descriptor says %q", gatewayv1.DubboRouteTypeURL, a.GetTypeUrl())
	}
}
