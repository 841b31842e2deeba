package store

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/descriptorpb"
)

// documentedGreeter is greeter with comments on the method and a field.
var documentedGreeter = map[string][]byte{"greet/v1/greeter.proto": []byte(`syntax = "proto3";
package greet.v1;
service Greeter {
  // Says hello.
  rpc SayHello(HelloRequest) returns (HelloReply);
}
message HelloRequest {
  string name = 1; // Who is greeted.
}
message HelloReply { string message = 1; }
`)}

// TestProtoUploadKeepsComments: a .proto upload's schema holds its comments as ProtoDocs,
// still after a restart, and its descriptors hold no SourceCodeInfo.
func TestProtoUploadKeepsComments(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, Options{})
	sc, err := s.Put(ctx, "greeter", KindProto, documentedGreeter)
	if err != nil {
		t.Fatal(err)
	}
	for when, got := range map[string]func() (map[string]string, bool){
		"after the upload": func() (map[string]string, bool) { return sc.ProtoDocs, hasSourceInfo(sc.Descriptors) },
		"after a restart": func() (map[string]string, bool) {
			again, err := open(t, dir, Options{}).Get("greeter")
			if err != nil {
				t.Fatal(err)
			}
			return again.ProtoDocs, hasSourceInfo(again.Descriptors)
		},
	} {
		docs, info := got()
		if docs["greet.v1.Greeter.SayHello"] != "Says hello." || docs["greet.v1.HelloRequest.name"] != "Who is greeted." || len(docs) != 2 {
			t.Errorf("%s: docs %v", when, docs)
		}
		if info {
			t.Errorf("%s: the descriptors keep their SourceCodeInfo", when)
		}
	}
}

func hasSourceInfo(fds *descriptorpb.FileDescriptorSet) bool {
	for _, f := range fds.GetFile() {
		if f.SourceCodeInfo != nil {
			return true
		}
	}
	return false
}
