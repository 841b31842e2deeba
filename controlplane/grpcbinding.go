package controlplane

import (
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"

	"github.com/rpcbridge/rpcbridge/httprule/annotation"
)

// withRouteBinding returns the descriptor set a gRPC route's transcoder needs. Envoy's
// grpc_json_transcoder (and the embedded gateway, which follows it) only transcodes requests
// that match a google.api.http binding written in the descriptors, so a route that comes from a
// user rule rather than from an annotation gets a copy of set whose method carries the route's
// binding as an additional_binding. Routes whose binding is already there, and the auto-mapped
// default POST /<pkg>.<Service>/<Method>, keep set unchanged.
func withRouteBinding(set []byte, r ir.Route) ([]byte, error) {
	verb, path := routeBinding(r)
	if verb == "" || path == "/"+r.GRPC.Service+"/"+r.GRPC.Method {
		return set, nil
	}
	var fds descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(set, &fds); err != nil {
		return nil, fmt.Errorf("descriptors of %s: %w", r.GRPC.Service, err)
	}
	method := findMethod(&fds, r.GRPC.Service, r.GRPC.Method)
	if method == nil {
		return nil, fmt.Errorf("method %s/%s is not in its descriptors", r.GRPC.Service, r.GRPC.Method)
	}
	if method.Options == nil {
		method.Options = &descriptorpb.MethodOptions{}
	}
	rule := annotation.FromOptions(method.Options)
	if hasBinding(rule, verb, path, r.GRPC.Body) {
		return set, nil
	}
	binding := annotation.New(verb, path, r.GRPC.Body, r.GRPC.ResponseBody)
	if rule == nil {
		rule = binding
	} else {
		rule = proto.Clone(rule).(*annotations.HttpRule)
		rule.AdditionalBindings = append(rule.AdditionalBindings, binding)
	}
	proto.SetExtension(method.Options, annotations.E_Http, rule)
	return proto.MarshalOptions{Deterministic: true}.Marshal(&fds)
}

// routeBinding is the HTTP verb and path template a gRPC route matches; "" when the route
// matches several verbs or none.
func routeBinding(r ir.Route) (verb, path string) {
	if len(r.Match.Methods) != 1 {
		return "", ""
	}
	path = r.Match.PathTemplate
	if path == "" {
		path = r.Match.Path
	}
	return r.Match.Methods[0], path
}

// findMethod returns the method of the fully qualified service in fds, or nil.
func findMethod(fds *descriptorpb.FileDescriptorSet, service, method string) *descriptorpb.MethodDescriptorProto {
	for _, f := range fds.GetFile() {
		for _, s := range f.GetService() {
			name := s.GetName()
			if f.GetPackage() != "" {
				name = f.GetPackage() + "." + name
			}
			if name != service {
				continue
			}
			for _, m := range s.GetMethod() {
				if m.GetName() == method {
					return m
				}
			}
		}
	}
	return nil
}

// hasBinding reports whether rule or one of its additional bindings is verb path with body.
func hasBinding(rule *annotations.HttpRule, verb, path, body string) bool {
	for _, b := range annotation.Bindings(rule) {
		v, p, _ := annotation.VerbPath(b)
		if strings.EqualFold(v, verb) && p == path && b.GetBody() == body {
			return true
		}
	}
	return false
}
