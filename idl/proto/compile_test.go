package proto

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/bufbuild/protocompile/linker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
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

// TestCompileInOrderMatchesOneCall checks that compiling file by file in import order gives
// exactly the descriptor set of one protocompile call over the whole upload.
func TestCompileInOrderMatchesOneCall(t *testing.T) {
	uploads := map[string]map[string][]byte{
		"generated": largeProtoSet(60),
		"greeter": {
			"greet/v1/greeter.proto":  []byte(greeterProto),
			"greet/v1/messages.proto": []byte(messagesProto),
		},
		"overrides a bundled file": {
			"google/api/http.proto": []byte("syntax = \"proto3\";\npackage google.api;\nmessage HttpRule { string get = 2; }\n"),
			"a.proto":               []byte("syntax = \"proto3\";\npackage a;\nimport \"google/api/http.proto\";\nmessage A { google.api.HttpRule r = 1; }\n"),
		},
	}
	for name, files := range uploads {
		t.Run(name, func(t *testing.T) {
			var roots []string
			for f := range files {
				roots = append(roots, f)
			}
			slices.Sort(roots)
			ordered, ok := compileInOrder(context.Background(), files, roots, bundledFiles(), protocompile.SourceInfoNone)
			if !ok {
				t.Fatal("compileInOrder gave up on sources that compile")
			}
			got, err := descriptorSet(ordered)
			if err != nil {
				t.Fatal(err)
			}
			want, err := compileOneCall(context.Background(), files)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, want) {
				t.Fatalf("ordered compilation differs from one call:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestCompileInOrderGivesUp checks that every kind of broken upload leaves compileInOrder to the
// one-call path, and that Compile still reports the problem.
func TestCompileInOrderGivesUp(t *testing.T) {
	cases := map[string]struct {
		files map[string][]byte
		want  string
	}{
		"syntax error": {map[string][]byte{"a.proto": []byte("syntax = \"proto3\";\nmessage A {\n")}, "a.proto:3"},
		"import cycle": {map[string][]byte{
			"a.proto": []byte("syntax = \"proto3\";\nimport \"b.proto\";\n"),
			"b.proto": []byte("syntax = \"proto3\";\nimport \"a.proto\";\n"),
		}, "cycle found in imports"},
		"self import":    {map[string][]byte{"a.proto": []byte("syntax = \"proto3\";\nimport \"a.proto\";\n")}, "cycle found in imports"},
		"missing import": {map[string][]byte{"a.proto": []byte("syntax = \"proto3\";\nimport \"nope.proto\";\n")}, "nope.proto"},
		"unknown type":   {map[string][]byte{"a.proto": []byte("syntax = \"proto3\";\nmessage A { Nope n = 1; }\n")}, "Nope"},
		"symbol defined twice": {map[string][]byte{
			"a.proto": []byte("syntax = \"proto3\";\npackage p;\nmessage M {}\n"),
			"b.proto": []byte("syntax = \"proto3\";\npackage p;\nmessage M {}\n"),
		}, "already defined"},
		"import of a non-.proto upload": {map[string][]byte{
			"a.proto": []byte("syntax = \"proto3\";\nimport \"b.txt\";\nmessage A { B b = 1; }\n"),
			"b.txt":   []byte("syntax = \"proto3\";\nmessage B {}\n"),
		}, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var roots []string
			for f := range c.files {
				if strings.HasSuffix(f, ".proto") {
					roots = append(roots, f)
				}
			}
			slices.Sort(roots)
			if _, ok := compileInOrder(context.Background(), c.files, roots, bundledFiles(), protocompile.SourceInfoNone); ok {
				t.Fatal("compileInOrder accepted the upload")
			}
			_, err := Compile(context.Background(), c.files)
			if c.want == "" {
				if err != nil {
					t.Fatalf("one-call path failed: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Compile error = %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// TestFileProtoMatchesConversion checks that the descriptor protos protocompile built, which
// Compile hands out, equal the conversion of the linked descriptors it used to hand out.
func TestFileProtoMatchesConversion(t *testing.T) {
	files := largeProtoSet(40)
	files["greet/v1/greeter.proto"] = []byte(greeterProto)
	files["greet/v1/messages.proto"] = []byte(messagesProto)
	var roots []string
	for f := range files {
		roots = append(roots, f)
	}
	slices.Sort(roots)
	for name, compile := range map[string]func() ([]protoreflect.FileDescriptor, error){
		"ordered": func() ([]protoreflect.FileDescriptor, error) {
			fds, ok := compileInOrder(context.Background(), files, roots, bundledFiles(), protocompile.SourceInfoNone)
			if !ok {
				return nil, errors.New("compileInOrder gave up")
			}
			return fds, nil
		},
		"one call": func() ([]protoreflect.FileDescriptor, error) {
			return compileTogether(context.Background(), files, roots, bundledFiles(), protocompile.SourceInfoNone)
		},
	} {
		t.Run(name, func(t *testing.T) {
			compiled, err := compile()
			if err != nil {
				t.Fatal(err)
			}
			for _, fd := range compiled {
				if _, ok := fd.(linker.Result); !ok {
					t.Fatalf("%s is not a linker.Result", fd.Path())
				}
				want := protodesc.ToFileDescriptorProto(fd)
				if got := fileProto(fd); !proto.Equal(got, want) {
					t.Fatalf("%s: built proto differs from the converted one:\n got %v\nwant %v", fd.Path(), got, want)
				}
			}
		})
	}
}
