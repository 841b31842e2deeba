package proto

import (
	"context"
	"strconv"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The comments of .proto files become documentation the way grpc-gateway's protoc-gen-openapiv2
// reads them (protoComments in internal/genopenapi/template.go): an element's leading comment,
// trimmed, with the one space after each line's "//" removed and internal comments "(-- … --)"
// dropped, then its trailing comment after a blank line. Detached comments are not an
// element's.

// CompileWithDocs compiles like Compile and also returns the comments of the compiled elements
// (ExtractDocs). The descriptors it returns carry no SourceCodeInfo, as Compile's.
func CompileWithDocs(ctx context.Context, files map[string][]byte) (*descriptorpb.FileDescriptorSet, map[string]string, error) {
	fds, err := compile(ctx, files, protocompile.SourceInfoStandard)
	if err != nil {
		return nil, nil, err
	}
	return fds, ExtractDocs(fds), nil
}

// ExtractDocs returns the comments that the SourceCodeInfo of fds's files holds for services,
// methods, messages, fields, oneofs, enums and enum values, by the element's full name without
// a leading dot (an enum value's full name is in its enum's scope: "pkg.RED", as protobuf names
// it), and removes the SourceCodeInfo from the files. Uncommented elements have no entry; the
// result is nil when nothing is commented.
func ExtractDocs(fds *descriptorpb.FileDescriptorSet) map[string]string {
	var docs map[string]string
	for _, f := range fds.GetFile() {
		commented := map[string]*descriptorpb.SourceCodeInfo_Location{}
		for _, loc := range f.GetSourceCodeInfo().GetLocation() {
			if loc.GetLeadingComments() != "" || loc.GetTrailingComments() != "" {
				commented[pathKey(loc.GetPath())] = loc
			}
		}
		f.SourceCodeInfo = nil
		if len(commented) == 0 {
			continue
		}
		walkElements(f, func(name string, path []int32) {
			loc, ok := commented[pathKey(path)]
			if !ok {
				return
			}
			if text := commentText(loc); text != "" {
				if docs == nil {
					docs = map[string]string{}
				}
				docs[name] = text
			}
		})
	}
	return docs
}

// DocsOf returns the entries of docs (as ExtractDocs returns them) that name elements of fds's
// files, nil when there are none.
func DocsOf(fds *descriptorpb.FileDescriptorSet, docs map[string]string) map[string]string {
	if len(docs) == 0 {
		return nil
	}
	var out map[string]string
	for _, f := range fds.GetFile() {
		walkElements(f, func(name string, _ []int32) {
			if text, ok := docs[name]; ok {
				if out == nil {
					out = map[string]string{}
				}
				out[name] = text
			}
		})
	}
	return out
}

// commentText is the documentation of one element's location.
func commentText(loc *descriptorpb.SourceCodeInfo_Location) string {
	text := strings.TrimSpace(strings.TrimRight(loc.GetLeadingComments(), "\n"))
	text = strings.TrimSpace(removeInternalComments(strings.ReplaceAll(text, "\n ", "\n")))
	if trailing := strings.TrimSpace(removeInternalComments(loc.GetTrailingComments())); trailing != "" {
		if text == "" {
			return trailing
		}
		text += "\n\n" + trailing
	}
	return text
}

// removeInternalComments drops the "(-- … --)" parts of a comment (API Improvement Proposal
// 192's internal comments), as protoc-gen-openapiv2 does.
func removeInternalComments(c string) string {
	var b strings.Builder
	for {
		open := strings.Index(c, "(--")
		if open < 0 {
			b.WriteString(c)
			return b.String()
		}
		b.WriteString(strings.TrimRight(c[:open], " \t"))
		rest := c[open+len("(--"):]
		end := strings.Index(rest, "--)")
		if end < 0 {
			return b.String()
		}
		c = rest[end+len("--)"):]
	}
}

// The field numbers that SourceCodeInfo paths go through (descriptor.proto).
const (
	fileMessages   = 4
	fileEnums      = 5
	fileServices   = 6
	messageFields  = 2
	messageNested  = 3
	messageEnums   = 4
	messageOneofs  = 8
	enumValues     = 2
	serviceMethods = 2
)

// walkElements calls visit with the full name and SourceCodeInfo path of every service,
// method, message, field, oneof, enum and enum value that f declares.
func walkElements(f *descriptorpb.FileDescriptorProto, visit func(name string, path []int32)) {
	scope := f.GetPackage()
	for i, m := range f.GetMessageType() {
		walkMessage(m, scope, []int32{fileMessages, int32(i)}, visit)
	}
	for i, e := range f.GetEnumType() {
		walkEnum(e, scope, []int32{fileEnums, int32(i)}, visit)
	}
	for i, s := range f.GetService() {
		name := qualify(scope, s.GetName())
		path := []int32{fileServices, int32(i)}
		visit(name, path)
		for j, m := range s.GetMethod() {
			visit(name+"."+m.GetName(), append(path, serviceMethods, int32(j)))
		}
	}
}

func walkMessage(m *descriptorpb.DescriptorProto, scope string, path []int32, visit func(string, []int32)) {
	name := qualify(scope, m.GetName())
	path = path[:len(path):len(path)] // appends below must not share the caller's array
	visit(name, path)
	for i, f := range m.GetField() {
		visit(name+"."+f.GetName(), append(path, messageFields, int32(i)))
	}
	for i, o := range m.GetOneofDecl() {
		visit(name+"."+o.GetName(), append(path, messageOneofs, int32(i)))
	}
	for i, n := range m.GetNestedType() {
		walkMessage(n, name, append(path, messageNested, int32(i)), visit)
	}
	for i, e := range m.GetEnumType() {
		walkEnum(e, name, append(path, messageEnums, int32(i)), visit)
	}
}

func walkEnum(e *descriptorpb.EnumDescriptorProto, scope string, path []int32, visit func(string, []int32)) {
	path = path[:len(path):len(path)]
	visit(qualify(scope, e.GetName()), path)
	for i, v := range e.GetValue() {
		visit(qualify(scope, v.GetName()), append(path, enumValues, int32(i)))
	}
}

func qualify(scope, name string) string {
	if scope == "" {
		return name
	}
	return scope + "." + name
}

// pathKey is a SourceCodeInfo path as a map key.
func pathKey(path []int32) string {
	b := make([]byte, 0, 4*len(path))
	for _, p := range path {
		b = strconv.AppendInt(b, int64(p), 10)
		b = append(b, '.')
	}
	return string(b)
}
