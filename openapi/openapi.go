// Package openapi describes the gateway's REST surface as an OpenAPI 3.1 document, built only
// from the gateway IR: one operation per route and HTTP method, path templates turned into
// OpenAPI paths, parameters and request bodies from each route's bindings, and schemas from the
// routes' protobuf descriptors and Java classes.
//
// Rendering rules. Protobuf messages follow the proto3 JSON mapping that grpc_json_transcoder
// and protojson use: fields by their JSON name; 64-bit integers as strings; enums as their value
// names; bytes as base64 strings; maps as objects; repeated fields as arrays; oneof members as
// optional properties of which at most one may be set; well-known types as protojson renders them
// (Timestamp as an RFC 3339 string, Duration as "1.5s", FieldMask as "a,b.c", wrappers as their
// value, Struct as any object, Value as any JSON, ListValue as an array, Any as an object with
// "@type", Empty as {}). Java types follow the embedded gateway's JSON mapping, which javatype
// owns (the README's table): fixed schemas for its scalar families, byte[] and the JDK classes
// without a mapping (always null); enums by constant name; arrays, Lists, Sets and other
// collections as arrays; Map<K,V> as an object whose values are V; an async method's
// CompletableFuture<T> as T; DTOs as component schemas; Object and type variables as any JSON
// value.
package openapi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// Info is the document's metadata.
type Info struct {
	// Title and Version are required by OpenAPI; empty values become "rpcbridge" and "0".
	Title       string
	Version     string
	Description string
	// ServerURL, when set, is the document's only server ("https://api.example.com").
	ServerURL string
}

// obj is a JSON object; encoding/json writes its keys sorted, which keeps output deterministic.
type obj = map[string]any

// document accumulates the paths and component schemas of one Generate call.
type document struct {
	paths   map[string]obj
	schemas obj
	// shapes maps a path's shape ("/v1/{}/books") to the OpenAPI path that holds it, because
	// OpenAPI forbids two paths that differ only in parameter names.
	shapes  map[string]string
	omitted []string
	opIDs   map[string]int
	protos  *protoSchemas
	javas   *javaSchemas
	// security are the security schemes the operations use, by name (security.go).
	security obj
}

// Generate renders g as an OpenAPI 3.1 JSON document. Routes come in match order; when two
// routes give the same OpenAPI path and method, the first (the one that matches first) is
// described and the other is listed under the root extension x-rpcbridge-omitted.
func Generate(g ir.Gateway, info Info) ([]byte, error) {
	protos, err := newProtoSchemas(g.ProtoDescriptors)
	if err != nil {
		return nil, err
	}
	d := &document{paths: map[string]obj{}, schemas: obj{}, shapes: map[string]string{}, opIDs: map[string]int{}, security: obj{},
		protos: protos, javas: newJavaSchemas(g.JavaClasses, g.DubboValues)}
	for _, r := range g.Routes {
		if len(r.Match.Headers) > 0 {
			// A route with header conditions is a canary's (or a Dubbo tag's) copy of the route
			// after it, for the same operation: that route describes it.
			continue
		}
		if err := d.addRoute(r); err != nil {
			return nil, fmt.Errorf("route %s: %w", r.Name, err)
		}
	}
	d.protos.emit(d.schemas)
	d.javas.emit(d.schemas)

	infoObj := obj{"title": or(info.Title, "rpcbridge"), "version": or(info.Version, "0")}
	if info.Description != "" {
		infoObj["description"] = info.Description
	}
	root := obj{"openapi": "3.1.0", "info": infoObj, "paths": d.pathsObj()}
	if info.ServerURL != "" {
		root["servers"] = []any{obj{"url": info.ServerURL}}
	}
	components := obj{}
	if len(d.schemas) > 0 {
		components["schemas"] = d.schemas
	}
	if len(d.security) > 0 {
		components["securitySchemes"] = d.security
	}
	if len(components) > 0 {
		root["components"] = components
	}
	if len(d.omitted) > 0 {
		sort.Strings(d.omitted)
		root["x-rpcbridge-omitted"] = d.omitted
	}
	out, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode OpenAPI document: %w", err)
	}
	return append(out, '\n'), nil
}

func (d *document) pathsObj() obj {
	out := obj{}
	for p, item := range d.paths {
		out[p] = item
	}
	return out
}

// httpMethods are the methods OpenAPI can describe, and the ones a catch-all route is shown with.
var (
	httpMethods     = map[string]bool{"GET": true, "PUT": true, "POST": true, "DELETE": true, "OPTIONS": true, "HEAD": true, "PATCH": true, "TRACE": true}
	catchAllMethods = []string{"DELETE", "GET", "PATCH", "POST", "PUT"}
)

// addRoute adds one operation per HTTP method of r.
func (d *document) addRoute(r ir.Route) error {
	p, err := toOpenAPIPath(r.Match)
	if err != nil {
		return err
	}
	methods := r.Match.Methods
	if len(methods) == 0 {
		methods = catchAllMethods
	}
	for _, m := range methods {
		if !httpMethods[m] {
			d.omitted = append(d.omitted, r.Name+" ("+m+" cannot be described in OpenAPI)")
			continue
		}
		key, names := d.pathKey(p)
		item := d.paths[key]
		if item == nil {
			item = obj{}
			d.paths[key] = item
		}
		method := strings.ToLower(m)
		if _, taken := item[method]; taken {
			d.omitted = append(d.omitted, r.Name+" ("+m+" "+key+" is described by an earlier route)")
			continue
		}
		op, err := d.operation(r, m, p, names)
		if err != nil {
			return err
		}
		if sec := d.securityOf(r); sec != nil {
			op["security"] = sec
		}
		item[method] = op
	}
	return nil
}

// pathKey returns the OpenAPI path to use for p: p itself, or an earlier path of the same shape,
// with the parameter names that path uses in order.
func (d *document) pathKey(p openAPIPath) (string, []string) {
	shape := p.shape()
	if key, ok := d.shapes[shape]; ok {
		return key, paramNames(key)
	}
	d.shapes[shape] = p.path
	return p.path, paramNames(p.path)
}

// operationID returns a stable, unique operation ID built from base.
func (d *document) operationID(base string) string {
	d.opIDs[base]++
	if n := d.opIDs[base]; n > 1 {
		return fmt.Sprintf("%s_%d", base, n)
	}
	return base
}

// operation describes one route under one HTTP method; names are the path parameter names of the
// OpenAPI path, positionally matching p.params.
func (d *document) operation(r ir.Route, method string, p openAPIPath, names []string) (obj, error) {
	switch {
	case r.GRPC != nil:
		return d.grpcOperation(r, method, p, names)
	case r.Dubbo != nil:
		return d.dubboOperation(r, method, p, names), nil
	}
	op := obj{
		"operationId": d.operationID(sanitize(r.Cluster) + "_" + strings.ToLower(method) + "_" + sanitize(p.path)),
		"summary":     "Proxied to " + r.Cluster,
		"tags":        []any{r.Cluster},
		"responses":   obj{"default": obj{"description": "The upstream's response."}},
	}
	if params := d.pathParams(p, names, nil); len(params) > 0 {
		op["parameters"] = params
	}
	if method != "GET" && method != "HEAD" && method != "DELETE" {
		op["requestBody"] = obj{"content": obj{"*/*": obj{"schema": obj{}}}}
	}
	return op, nil
}

// pathParams describes p's path parameters; schemaOf gives the schema and description of the
// variable a parameter belongs to (nil: strings).
func (d *document) pathParams(p openAPIPath, names []string, schemaOf func(field string) (obj, string)) []any {
	var out []any
	for i, v := range p.params {
		schema, desc := obj{"type": "string"}, ""
		if schemaOf != nil && v.field != "" {
			schema, desc = schemaOf(v.field)
		}
		if v.pattern != "" && v.pattern != "*" {
			schema, desc = obj{"type": "string"}, join(desc, "Its value is "+v.pattern+" with this parameter in place of a wildcard.")
		}
		if v.segment == "**" {
			desc = join(desc, "It takes the rest of the path, '/' included.")
		}
		if names[i] != v.name {
			desc = join(desc, "Also "+v.name+" on routes that name it so.")
		}
		param := obj{"name": names[i], "in": "path", "required": true, "schema": schema}
		if desc != "" {
			param["description"] = desc
		}
		out = append(out, param)
	}
	return out
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sanitize keeps operation IDs to letters, digits, '.', '_' and '-'.
func sanitize(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_")
}
