package proto

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

const greeterProto = `syntax = "proto3";
package greet.v1;

import "google/api/annotations.proto";
import "greet/v1/messages.proto";

service Greeter {
  rpc SayHello(HelloRequest) returns (HelloReply) {
    option (google.api.http) = { post: "/v1/hello" body: "*" };
  }
}
`

const messagesProto = `syntax = "proto3";
package greet.v1;

message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
`

// TestCompileErrorPosition breaks one line and checks that the reported problem points at the
// line and column of the offending token, as located in the source by the test itself.
func TestCompileErrorPosition(t *testing.T) {
	broken := strings.Replace(messagesProto, "string message = 1;", "strin message = 1;", 1)
	lines := strings.Split(broken, "\n")
	wantLine, wantCol := 0, 0
	for i, l := range lines {
		if c := strings.Index(l, "strin message"); c >= 0 {
			wantLine, wantCol = i+1, c+1
		}
	}
	if wantLine == 0 {
		t.Fatal("test source lacks the broken token")
	}

	_, err := Compile(context.Background(), map[string][]byte{
		"greet/v1/greeter.proto":  []byte(greeterProto),
		"greet/v1/messages.proto": []byte(broken),
	})
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("want *CompileError, got %T: %v", err, err)
	}
	found := false
	for _, p := range ce.Problems {
		if p.File == "greet/v1/messages.proto" && p.Line == wantLine && p.Column == wantCol {
			found = true
			if !strings.Contains(p.Message, "strin") {
				t.Errorf("message %q does not name the unknown type", p.Message)
			}
		}
	}
	if !found {
		t.Fatalf("no problem at greet/v1/messages.proto:%d:%d; got %v", wantLine, wantCol, ce.Problems)
	}
	if want := "greet/v1/messages.proto:" + strconv.Itoa(wantLine) + ":" + strconv.Itoa(wantCol) + ": "; !strings.Contains(err.Error(), want) {
		t.Errorf("error text %q lacks %q", err.Error(), want)
	}
}

func TestCompileSyntaxErrorsAllReported(t *testing.T) {
	_, err := Compile(context.Background(), map[string][]byte{
		"one.proto": []byte("syntax = \"proto3\";\nmessage A { int32 x = ; }\n"),
		"two.proto": []byte("syntax = \"proto3\";\nmessage B {\n  int32 y = 1\n}\n"),
	})
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("want *CompileError, got %v", err)
	}
	files := map[string]bool{}
	for _, p := range ce.Problems {
		if p.Line == 0 {
			t.Errorf("problem without a position: %v", p)
		}
		files[p.File] = true
	}
	if !files["one.proto"] || !files["two.proto"] {
		t.Errorf("want problems from both files, got %v", ce.Problems)
	}
}

func TestCompileMissingImport(t *testing.T) {
	_, err := Compile(context.Background(), map[string][]byte{
		"greet/v1/greeter.proto": []byte(greeterProto),
	})
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("want *CompileError, got %v", err)
	}
	if !strings.Contains(err.Error(), "greet/v1/messages.proto") {
		t.Errorf("error does not name the missing import: %v", err)
	}
}

func TestCompileDeterministic(t *testing.T) {
	files := map[string][]byte{
		"greet/v1/greeter.proto":  []byte(greeterProto),
		"greet/v1/messages.proto": []byte(messagesProto),
	}
	var first []byte
	for i := 0; i < 5; i++ {
		fds, err := Compile(context.Background(), files)
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(fds)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
			continue
		}
		if string(b) != string(first) {
			t.Fatalf("compilation %d differs from the first", i)
		}
	}
}

func TestFromDescriptorSet(t *testing.T) {
	fds, err := Compile(context.Background(), map[string][]byte{
		"greet/v1/greeter.proto":  []byte(greeterProto),
		"greet/v1/messages.proto": []byte(messagesProto),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Reverse the order: FromDescriptorSet must restore dependencies-first order.
	reversed := &descriptorpb.FileDescriptorSet{}
	for i := len(fds.File) - 1; i >= 0; i-- {
		reversed.File = append(reversed.File, fds.File[i])
	}
	raw, err := proto.Marshal(reversed)
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromDescriptorSet(raw)
	if err != nil {
		t.Fatalf("FromDescriptorSet: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range got.File {
		for _, dep := range f.GetDependency() {
			if !seen[dep] {
				t.Errorf("%s comes before its import %s", f.GetName(), dep)
			}
		}
		seen[f.GetName()] = true
	}
	svcs := Services(got)
	if len(svcs) != 1 || len(svcs[0].Methods) != 1 || len(svcs[0].Methods[0].HTTP) != 1 ||
		svcs[0].Methods[0].HTTP[0].Pattern != "/v1/hello" {
		t.Errorf("HTTP rule lost through the binary round trip: %+v", svcs)
	}

	// Drop google/api/http.proto: the set is no longer complete.
	incomplete := &descriptorpb.FileDescriptorSet{}
	for _, f := range fds.File {
		if f.GetName() != "google/api/http.proto" {
			incomplete.File = append(incomplete.File, f)
		}
	}
	raw, _ = proto.Marshal(incomplete)
	_, err = FromDescriptorSet(raw)
	var ie *IncompleteError
	if !errors.As(err, &ie) {
		t.Fatalf("want *IncompleteError, got %v", err)
	}
	if got := ie.Missing["google/api/annotations.proto"]; len(got) != 1 || got[0] != "google/api/http.proto" {
		t.Errorf("missing = %v", ie.Missing)
	}

	if _, err := FromDescriptorSet([]byte("not a descriptor set")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestFromDescriptorSetRejectsUnlinkable(t *testing.T) {
	set := &descriptorpb.FileDescriptorSet{File: []*descriptorpb.FileDescriptorProto{{
		Name:   proto.String("bad.proto"),
		Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("M"),
			Field: []*descriptorpb.FieldDescriptorProto{{
				Name:     proto.String("f"),
				Number:   proto.Int32(1),
				Type:     descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(),
				TypeName: proto.String(".nowhere.Msg"),
				Label:    descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			}},
		}},
	}}}
	raw, _ := proto.Marshal(set)
	if _, err := FromDescriptorSet(raw); err == nil || !strings.Contains(err.Error(), "nowhere.Msg") {
		t.Fatalf("want a link error naming nowhere.Msg, got %v", err)
	}
}
