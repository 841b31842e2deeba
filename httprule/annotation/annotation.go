// Package annotation reads and writes the google.api.http method option: the one place that
// knows how an annotations.HttpRule spells its verb and path. httprule parses the path
// templates; this package keeps that one free of protobuf.
package annotation

import (
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// FromOptions returns the google.api.http rule of a method, or nil when it has none. A rule
// decoded as the known extension is returned as it is (shared with opts: clone it before
// changing it), one decoded with a dynamic type (as protocompile decodes it) is re-read from its
// wire form; otherwise the options are re-read from their wire form with a resolver that knows
// the extension, so that the rule is found also when it was kept as unknown fields (as in
// descriptors built at run time).
func FromOptions(opts *descriptorpb.MethodOptions) *annotations.HttpRule {
	if opts == nil {
		return nil
	}
	if proto.HasExtension(opts, annotations.E_Http) {
		// Get by descriptor rather than GetExtension: a value set with another (dynamic) type
		// of the same extension, as protocompile sets it, would make GetExtension panic.
		v := opts.ProtoReflect().Get(annotations.E_Http.TypeDescriptor()).Message().Interface()
		if rule, ok := v.(*annotations.HttpRule); ok {
			return rule
		}
		if raw, err := proto.Marshal(v); err == nil {
			rule := &annotations.HttpRule{}
			if proto.Unmarshal(raw, rule) == nil {
				return rule
			}
		}
	}
	raw, err := proto.Marshal(opts)
	if err != nil {
		return nil
	}
	types := new(protoregistry.Types)
	if err := types.RegisterExtension(annotations.E_Http); err != nil {
		return nil
	}
	decoded := &descriptorpb.MethodOptions{}
	if err := (proto.UnmarshalOptions{Resolver: types}).Unmarshal(raw, decoded); err != nil {
		return nil
	}
	if !proto.HasExtension(decoded, annotations.E_Http) {
		return nil
	}
	rule, _ := proto.GetExtension(decoded, annotations.E_Http).(*annotations.HttpRule)
	return rule
}

// Bindings returns the rule followed by its additional_bindings, or nil for a nil rule.
func Bindings(rule *annotations.HttpRule) []*annotations.HttpRule {
	if rule == nil {
		return nil
	}
	return append([]*annotations.HttpRule{rule}, rule.GetAdditionalBindings()...)
}

// VerbPath returns the HTTP verb and path template of one binding. For a custom binding the verb
// is its kind as written and custom is true; a binding without a pattern gives "", "".
func VerbPath(r *annotations.HttpRule) (verb, path string, custom bool) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return "GET", p.Get, false
	case *annotations.HttpRule_Put:
		return "PUT", p.Put, false
	case *annotations.HttpRule_Post:
		return "POST", p.Post, false
	case *annotations.HttpRule_Delete:
		return "DELETE", p.Delete, false
	case *annotations.HttpRule_Patch:
		return "PATCH", p.Patch, false
	case *annotations.HttpRule_Custom:
		return p.Custom.GetKind(), p.Custom.GetPath(), true
	}
	return "", "", false
}

// New returns a binding for verb and path: a standard pattern for GET, PUT, POST, DELETE and
// PATCH, a custom one for any other verb.
func New(verb, path, body, responseBody string) *annotations.HttpRule {
	r := &annotations.HttpRule{Body: body, ResponseBody: responseBody}
	switch verb {
	case "GET":
		r.Pattern = &annotations.HttpRule_Get{Get: path}
	case "PUT":
		r.Pattern = &annotations.HttpRule_Put{Put: path}
	case "POST":
		r.Pattern = &annotations.HttpRule_Post{Post: path}
	case "DELETE":
		r.Pattern = &annotations.HttpRule_Delete{Delete: path}
	case "PATCH":
		r.Pattern = &annotations.HttpRule_Patch{Patch: path}
	default:
		r.Pattern = &annotations.HttpRule_Custom{Custom: &annotations.CustomHttpPattern{Kind: verb, Path: path}}
	}
	return r
}
