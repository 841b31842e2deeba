package openapi

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// Tool is one route described as a Model Context Protocol tool: the same operation as the
// route's OpenAPI operation, its parameters and request body folded into one arguments object.
// Each path, query and header parameter is a property of that name; the members of a Dubbo
// route's body object are properties too; any other request body is the property "body".
type Tool struct {
	// Route is the IR route's name.
	Route string
	// Name is unique among the tools of one Tools call: "<gRPC service>.<method>", or
	// "[<group>/]<interface>[:<version>].<method>" for Dubbo, sanitized, with "_2", "_3", ...
	// for later routes of the same method.
	Name string
	// Description is the comment of the route's method in the IDL, else the operation's
	// summary and the REST request it makes.
	Description string
	// InputSchema is the JSON Schema (2020-12) of the arguments: an object whose component
	// schemas are in its own $defs.
	InputSchema json.RawMessage
	// Method and PathTemplate are the REST request's; PathTemplate is the OpenAPI path with each
	// parameter as a google.api.http variable ("{name}", or "{path=**}" for one that takes the
	// rest of the path).
	Method       string
	PathTemplate string
	// Arguments say where each property goes in the request.
	Arguments []ToolArgument
}

// ToolArgument is where one property of a tool's arguments goes: the path variable, query
// parameter, header or body member Key, or the whole body (ir.FromWholeBody, no key).
type ToolArgument struct {
	Name string
	In   ir.ParamSource
	Key  string
}

// bodyArgument is the property that holds a request body that is not an object of arguments.
const bodyArgument = "body"

// OmittedTool is a route that Tools could not describe as a tool, and why.
type OmittedTool struct {
	Route  string
	Reason string
}

// Tools describes as tools the gRPC and Dubbo routes of g whose service (the route's cluster,
// "grpc:pkg.Service", "dubbo:iface:version:group") matches one of the globs (path.Match
// syntax), in route order. Routes with header conditions (a canary's copies), prefix matches
// and withheld routes are not tools. A selected route that cannot be described (its method has
// no schema, two of its arguments would share a name) is omitted and listed; the error is
// only for descriptors that do not decode, as in Generate.
func Tools(g ir.Gateway, services []string) ([]Tool, []OmittedTool, error) {
	protos, err := newProtoSchemas(g.ProtoDescriptors)
	if err != nil {
		return nil, nil, err
	}
	d := &document{paths: map[string]obj{}, schemas: obj{}, shapes: map[string]string{}, opIDs: map[string]int{}, security: obj{},
		protos: protos, javas: newJavaSchemas(g.JavaClasses, g.DubboValues)}
	type pending struct {
		tool   Tool
		schema obj
	}
	var out []pending
	var omitted []OmittedTool
	names := map[string]int{}
	for _, r := range g.Routes {
		if !toolRoute(r, services) {
			continue
		}
		t, schema, err := d.tool(r)
		if err != nil {
			omitted = append(omitted, OmittedTool{Route: r.Name, Reason: err.Error()})
			continue
		}
		names[t.Name]++
		if n := names[t.Name]; n > 1 {
			t.Name += "_" + strconv.Itoa(n)
		}
		out = append(out, pending{t, schema})
	}
	d.protos.emit(d.schemas)
	d.javas.emit(d.schemas)
	tools := make([]Tool, 0, len(out))
	for _, p := range out {
		raw, err := json.Marshal(selfContained(p.schema, d.schemas))
		if err != nil {
			return nil, nil, fmt.Errorf("route %s: encode tool schema: %w", p.tool.Route, err)
		}
		p.tool.InputSchema = raw
		tools = append(tools, p.tool)
	}
	return tools, omitted, nil
}

// toolRoute reports whether r is offered as a tool under the service globs.
func toolRoute(r ir.Route, services []string) bool {
	if (r.GRPC == nil && r.Dubbo == nil) || r.Withheld != "" || len(r.Match.Headers) > 0 || r.Match.PathPrefix != "" {
		return false
	}
	for _, g := range services {
		if ok, _ := path.Match(g, r.Cluster); ok {
			return true
		}
	}
	return false
}

// tool describes r (a gRPC or Dubbo route) as a tool with the schema of its arguments, whose
// $refs still point to the document's components.
func (d *document) tool(r ir.Route) (Tool, obj, error) {
	p, err := toOpenAPIPath(r.Match)
	if err != nil {
		return Tool{}, nil, err
	}
	method := "POST"
	if len(r.Match.Methods) > 0 {
		method = r.Match.Methods[0]
	}
	op, err := d.operation(r, method, p, paramNames(p.path))
	if err != nil {
		return Tool{}, nil, err
	}
	t := Tool{Route: r.Name, Name: toolName(r), Method: method, PathTemplate: toolTemplate(p)}
	props, required := obj{}, []any{}
	add := func(name string, in ir.ParamSource, key string, schema obj, desc string, req bool) error {
		if _, dup := props[name]; dup {
			return fmt.Errorf("two arguments of the tool are named %q", name)
		}
		if desc != "" {
			schema = withDescription(schema, desc)
		}
		props[name] = schema
		if req {
			required = append(required, name)
		}
		t.Arguments = append(t.Arguments, ToolArgument{Name: name, In: in, Key: key})
		return nil
	}
	params, _ := op["parameters"].([]any)
	for _, pa := range params {
		param := pa.(obj)
		name := param["name"].(string)
		desc, _ := param["description"].(string)
		req, _ := param["required"].(bool)
		schema, _ := param["schema"].(obj)
		if err := add(name, ir.ParamSource(param["in"].(string)), name, schema, desc, req); err != nil {
			return Tool{}, nil, err
		}
	}
	if body, ok := op["requestBody"].(obj); ok {
		schema := body["content"].(obj)
		for _, media := range schema {
			schema = media.(obj)["schema"].(obj)
		}
		desc, _ := body["description"].(string)
		req, _ := body["required"].(bool)
		if members, byName := schema["properties"].(obj); byName && r.Dubbo != nil {
			memberRequired := map[string]bool{}
			for _, m := range asList(schema["required"]) {
				memberRequired[m.(string)] = true
			}
			for _, key := range sortedObjKeys(members) {
				if err := add(key, ir.FromBody, key, members[key].(obj), "", memberRequired[key]); err != nil {
					return Tool{}, nil, err
				}
			}
		} else if err := add(bodyArgument, ir.FromWholeBody, "", schema, desc, req); err != nil {
			return Tool{}, nil, err
		}
	}
	t.Description = d.toolDescription(r, op, method, p)
	input := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		input["required"] = required
	}
	return t, input, nil
}

// toolDescription is the comment of the route's method in the IDL (a protobuf method's, or a
// Java method's Javadoc with its @return text), else the operation's summary and the REST
// request the tool makes.
func (d *document) toolDescription(r ir.Route, op obj, method string, p openAPIPath) string {
	if r.GRPC != nil {
		if doc := d.protos.docs[r.GRPC.Service+"."+r.GRPC.Method]; doc != "" {
			return doc
		}
	}
	if db := r.Dubbo; db != nil && db.Doc != "" {
		if db.ReturnsDoc != "" {
			return db.Doc + "\n\nReturns " + db.ReturnsDoc
		}
		return db.Doc
	}
	desc := op["summary"].(string) + " (" + method + " " + p.path + ")."
	if r.Dubbo != nil && r.Dubbo.Returns != "" && javatype.Name(r.Dubbo.Returns).Family() != javatype.Void {
		desc += " Returns " + r.Dubbo.Returns + "."
	}
	return desc
}

// toolName is the tool name of a gRPC or Dubbo route before deduplication.
func toolName(r ir.Route) string {
	if r.GRPC != nil {
		return sanitize(r.GRPC.Service + "." + r.GRPC.Method)
	}
	db := r.Dubbo
	service := db.Interface
	if db.Version != "" {
		service += ":" + db.Version
	}
	if db.Group != "" {
		service = db.Group + "/" + service
	}
	return sanitize(service + "." + db.Method)
}

// toolTemplate is p as a google.api.http template whose variables are p's parameters.
func toolTemplate(p openAPIPath) string {
	out := p.path
	for _, v := range p.params {
		if v.segment == "**" {
			out = strings.Replace(out, "{"+v.name+"}", "{"+v.name+"=**}", 1)
		}
	}
	return out
}

// withDescription is a copy of schema with desc as its description (after the schema's own,
// or beside a $ref, which JSON Schema 2020-12 allows).
func withDescription(schema obj, desc string) obj {
	out := obj{}
	for k, v := range schema {
		out[k] = v
	}
	if own, ok := out["description"].(string); ok && own != "" {
		desc = own + " " + desc
	}
	out["description"] = desc
	return out
}

const componentRef = "#/components/schemas/"

// selfContained is a copy of schema whose references to components point into its own $defs,
// which hold those components and the ones they reach.
func selfContained(schema obj, components obj) obj {
	defs := obj{}
	var pending []string
	var rewrite func(v any) any
	rewrite = func(v any) any {
		switch v := v.(type) {
		case obj:
			out := obj{}
			for k, e := range v {
				if s, ok := e.(string); ok && k == "$ref" && strings.HasPrefix(s, componentRef) {
					name := strings.TrimPrefix(s, componentRef)
					if _, seen := defs[name]; !seen {
						defs[name] = nil
						pending = append(pending, name)
					}
					out[k] = "#/$defs/" + name
					continue
				}
				out[k] = rewrite(e)
			}
			return out
		case []any:
			out := make([]any, len(v))
			for i, e := range v {
				out[i] = rewrite(e)
			}
			return out
		}
		return v
	}
	out := rewrite(schema).(obj)
	for len(pending) > 0 {
		name := pending[0]
		pending = pending[1:]
		c, _ := components[name].(obj)
		defs[name] = rewrite(c)
	}
	if len(defs) > 0 {
		out["$defs"] = defs
	}
	return out
}

// asList is v as a list, nil when it is not one.
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// sortedObjKeys returns o's keys in order.
func sortedObjKeys(o obj) []string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
