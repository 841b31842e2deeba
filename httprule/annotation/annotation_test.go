package annotation

import (
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

func TestNewAndVerbPathRoundTrip(t *testing.T) {
	for _, verb := range []string{"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD"} {
		r := New(verb, "/v1/{name=shelves/*}", "*", "book")
		v, p, custom := VerbPath(r)
		if v != verb || p != "/v1/{name=shelves/*}" || custom != (verb == "HEAD") || r.GetBody() != "*" || r.GetResponseBody() != "book" {
			t.Errorf("%s: VerbPath(New) = %q %q %v, body %q %q", verb, v, p, custom, r.GetBody(), r.GetResponseBody())
		}
	}
	if v, p, _ := VerbPath(&annotations.HttpRule{}); v != "" || p != "" {
		t.Errorf("a rule without a pattern gave %q %q", v, p)
	}
}

func TestFromOptionsReadsKnownAndUnknownEncodings(t *testing.T) {
	rule := New("GET", "/v1/a", "", "")
	rule.AdditionalBindings = []*annotations.HttpRule{New("POST", "/v1/a", "*", "")}
	known := &descriptorpb.MethodOptions{}
	proto.SetExtension(known, annotations.E_Http, rule)

	// The same option as unknown fields, the way a descriptor built without the extension keeps it.
	raw, err := proto.Marshal(known)
	if err != nil {
		t.Fatal(err)
	}
	unknown := &descriptorpb.MethodOptions{}
	if err := (proto.UnmarshalOptions{Resolver: new(protoregistry.Types)}).Unmarshal(raw, unknown); err != nil {
		t.Fatal(err)
	}
	if proto.HasExtension(unknown, annotations.E_Http) {
		t.Fatal("test setup: the option was decoded as a known extension")
	}
	for name, opts := range map[string]*descriptorpb.MethodOptions{"known": known, "unknown": unknown} {
		got := Bindings(FromOptions(opts))
		if len(got) != 2 || got[0].GetGet() != "/v1/a" || got[1].GetPost() != "/v1/a" {
			t.Errorf("%s encoding: bindings %v", name, got)
		}
	}
	if FromOptions(nil) != nil || FromOptions(&descriptorpb.MethodOptions{}) != nil || Bindings(nil) != nil {
		t.Error("no option must give nil")
	}
}

// TestFromOptionsReadsDynamicEncoding sets the option with a dynamic extension type (as a
// descriptor compiled at run time may carry it) and checks that the rule is still found.
func TestFromOptionsReadsDynamicEncoding(t *testing.T) {
	rule := New("PATCH", "/v1/{name=items/*}", "item", "")
	raw, err := proto.Marshal(rule)
	if err != nil {
		t.Fatal(err)
	}
	xt := dynamicpb.NewExtensionType(annotations.E_Http.TypeDescriptor().Descriptor())
	value := dynamicpb.NewMessage(xt.TypeDescriptor().Message())
	if err := proto.Unmarshal(raw, value); err != nil {
		t.Fatal(err)
	}
	opts := &descriptorpb.MethodOptions{}
	opts.ProtoReflect().Set(xt.TypeDescriptor(), protoreflect.ValueOfMessage(value))
	got := FromOptions(opts)
	if !proto.Equal(got, rule) {
		t.Fatalf("FromOptions = %v, want %v", got, rule)
	}
}
