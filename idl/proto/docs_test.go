package proto

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bufbuild/protocompile"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

const documentedProto = `syntax = "proto3";
package doc.v1;

import "doc/v1/types.proto";

// A detached comment belongs to no element.

// Shelves of books.
service Shelves {
  // Returns the shelf of the given name.
  //
  // Fails with NOT_FOUND when there is none. (-- An internal remark. --)
  rpc GetShelf(GetShelfRequest) returns (Shelf);
  rpc Undocumented(GetShelfRequest) returns (Shelf);
}

message GetShelfRequest {
  // The shelf's resource name,
  //   indented here.
  string name = 1; // Such as "shelves/1".
  oneof pick {
    // By number.
    int64 id = 2;
  }
  /* A block comment on a nested message. */
  message Inner {
    Color color = 1;
  }
}
`

const typesProto = `syntax = "proto3";
package doc.v1;

// A shelf.
message Shelf { string name = 1; }

// The colors.
enum Color {
  // No color.
  COLOR_UNSPECIFIED = 0;
  RED = 1; // Red.
}
`

// TestCompileWithDocs: leading and trailing comments of every kind of element come out by full
// name, formatted as protoc-gen-openapiv2 formats them; detached comments and uncommented
// elements have no entry; the descriptors keep no SourceCodeInfo and equal Compile's.
func TestCompileWithDocs(t *testing.T) {
	files := map[string][]byte{"doc/v1/shelves.proto": []byte(documentedProto), "doc/v1/types.proto": []byte(typesProto)}
	fds, docs, err := CompileWithDocs(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"doc.v1.Shelves":               "Shelves of books.",
		"doc.v1.Shelves.GetShelf":      "Returns the shelf of the given name.\n\nFails with NOT_FOUND when there is none.",
		"doc.v1.GetShelfRequest.name":  "The shelf's resource name,\n  indented here.\n\nSuch as \"shelves/1\".",
		"doc.v1.GetShelfRequest.id":    "By number.",
		"doc.v1.GetShelfRequest.Inner": "A block comment on a nested message.",
		"doc.v1.Shelf":                 "A shelf.",
		"doc.v1.Color":                 "The colors.",
		"doc.v1.COLOR_UNSPECIFIED":     "No color.",
		"doc.v1.RED":                   "Red.",
	}
	if diff := cmp.Diff(want, docs); diff != "" {
		t.Errorf("docs (-want +got):\n%s", diff)
	}
	plain, err := Compile(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fds.GetFile() {
		if f.SourceCodeInfo != nil {
			t.Errorf("%s keeps its SourceCodeInfo", f.GetName())
		}
	}
	a, _ := proto.MarshalOptions{Deterministic: true}.Marshal(fds)
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(plain)
	if !bytes.Equal(a, b) {
		t.Errorf("CompileWithDocs's descriptors (%d bytes) differ from Compile's (%d bytes)", len(a), len(b))
	}

	// DocsOf keeps what one file's elements are documented with.
	types := &descriptorpb.FileDescriptorSet{}
	for _, f := range fds.GetFile() {
		if f.GetName() == "doc/v1/types.proto" {
			types.File = append(types.File, f)
		}
	}
	got := slices.Sorted(maps.Keys(DocsOf(types, docs)))
	if w := []string{"doc.v1.COLOR_UNSPECIFIED", "doc.v1.Color", "doc.v1.RED", "doc.v1.Shelf"}; !slices.Equal(got, w) {
		t.Errorf("DocsOf(types.proto) = %v, want %v", got, w)
	}
}

// TestExtractDocsFromDescriptorSet: a descriptor set written with source info (as buf build
// writes it) gives the same comments, and loses its SourceCodeInfo.
func TestExtractDocsFromDescriptorSet(t *testing.T) {
	withInfo, err := compile(context.Background(), map[string][]byte{"doc/v1/types.proto": []byte(typesProto)}, protocompile.SourceInfoStandard)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := proto.Marshal(withInfo)
	if err != nil {
		t.Fatal(err)
	}
	fds, err := FromDescriptorSet(raw)
	if err != nil {
		t.Fatal(err)
	}
	docs := ExtractDocs(fds)
	if docs["doc.v1.Shelf"] != "A shelf." || docs["doc.v1.RED"] != "Red." {
		t.Errorf("docs %v", docs)
	}
	after, _ := proto.Marshal(fds)
	if len(after) >= len(raw) || strings.Contains(string(after), "A shelf.") {
		t.Errorf("the set keeps its source info: %d bytes, was %d", len(after), len(raw))
	}
	if ExtractDocs(fds) != nil {
		t.Error("a set without source info has docs")
	}
}
