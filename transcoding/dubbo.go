package transcoding

import (
	"cmp"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rpcbridge/rpcbridge/bridge"
	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/diag"
	"github.com/rpcbridge/rpcbridge/httprule"
	"github.com/rpcbridge/rpcbridge/idl"
	"github.com/rpcbridge/rpcbridge/javatype"
	"github.com/rpcbridge/rpcbridge/registries/dubbourl"
)

// dubboBasePath is "/dubbo/" followed by Dubbo's service key "[group/]interface[:version]", with
// the group and version path-escaped.
func dubboBasePath(svc bridge.Service) string {
	key := cmp.Or(svc.Interface, svc.Name)
	if svc.Version != "" {
		key += ":" + url.PathEscape(svc.Version)
	}
	if svc.Group != "" {
		key = url.PathEscape(svc.Group) + "/" + key
	}
	return "/dubbo/" + key
}

// overloadSuffix spells an overload's parameter types for its path: "~" and the erasures joined
// by ",", each "[]" written "-array" ("find~long", "save~com.foo.User,java.lang.String-array").
func overloadSuffix(m idl.JavaMethod) string {
	types := make([]string, len(m.Params))
	for i, p := range m.Params {
		types[i] = strings.ReplaceAll(p.Type.Erasure(), "[]", "-array")
	}
	return "~" + strings.Join(types, ",")
}

// signature renders "find(long,java.lang.String)" for messages.
func signature(m idl.JavaMethod) string {
	types := make([]string, len(m.Params))
	for i, p := range m.Params {
		types[i] = p.Type.Erasure()
	}
	return m.Name + "(" + strings.Join(types, ",") + ")"
}

func paramName(p idl.JavaParam, i int) string {
	return cmp.Or(p.Name, "arg"+strconv.Itoa(i))
}

// dubboTarget is what every route of one Dubbo service shares.
type dubboTarget struct {
	svc            bridge.Service
	js             javaService
	defaultTimeout time.Duration
	// callTimeout is the provider's "timeout" parameter; methodTimeouts its "<method>.timeout"
	// parameters, which override it for one method (Dubbo's URL.getMethodParameter).
	callTimeout    time.Duration
	methodTimeouts map[string]time.Duration
	// payloadLimit is the providers' request body limit, 0 for Dubbo's default.
	payloadLimit int
}

// timeoutOf is the Dubbo call timeout of method (0: the route's timeout applies).
func (t dubboTarget) timeoutOf(method string) time.Duration {
	if d, ok := t.methodTimeouts[method]; ok {
		return d
	}
	return t.callTimeout
}

// providerTimeouts reads the provider's "timeout" and "<method>.timeout" parameters
// (milliseconds); a value that is not a number is reported and ignored.
func providerTimeouts(svc bridge.Service, methods []idl.JavaMethod) (time.Duration, map[string]time.Duration, []diag.Diagnostic) {
	var ds []diag.Diagnostic
	parse := func(key string) (time.Duration, bool) {
		raw, ok := svc.Metadata[key]
		if !ok || raw == "" {
			return 0, false
		}
		ms, err := strconv.ParseUint(raw, 10, 31)
		if err != nil {
			ds = append(ds, diagnostic(diag.DubboBadTimeout, diag.Warning, svc.ID, fmt.Sprintf("provider %s %q is not a number of milliseconds; it is ignored", key, raw)))
			return 0, false
		}
		return time.Duration(ms) * time.Millisecond, true
	}
	call, _ := parse("timeout")
	var perMethod map[string]time.Duration
	seen := map[string]bool{}
	for _, m := range methods {
		if seen[m.Name] {
			continue // an overload: the parameter names the method, not the overload
		}
		seen[m.Name] = true
		if d, ok := parse(m.Name + ".timeout"); ok {
			if perMethod == nil {
				perMethod = map[string]time.Duration{}
			}
			perMethod[m.Name] = d
		}
	}
	return call, perMethod, ds
}

// providerPayload is the request body limit of the service's providers (the smallest among
// them; see dubbourl.Payload), 0 when it is Dubbo's default, which gateways assume. A payload
// parameter that is not a number is reported.
func providerPayload(svc bridge.Service) (int, []diag.Diagnostic) {
	limit, err := dubbourl.Payload(svc.Metadata)
	var ds []diag.Diagnostic
	if err != nil {
		ds = append(ds, diagnostic(diag.DubboBadPayload, diag.Warning, svc.ID, err.Error()))
	}
	if limit == dubbourl.DefaultPayload {
		return 0, ds
	}
	return limit, ds
}

// route builds a route calling m with the given parameter sources (in m's parameter order),
// documented with m's Javadoc.
func (t dubboTarget) route(m idl.JavaMethod, httpMethod string, params []ir.DubboParam) ir.Route {
	params = slices.Clone(params)
	for i := range params {
		if i < len(m.Params) {
			params[i].Doc = m.Params[i].Doc
		}
	}
	return ir.Route{
		Match:   ir.Match{Methods: []string{httpMethod}},
		Cluster: t.svc.ID,
		Timeout: t.defaultTimeout,
		Dubbo: &ir.DubboRoute{
			Interface: cmp.Or(t.svc.Interface, t.svc.Name), Version: t.svc.Version, Group: t.svc.Group,
			Method: m.Name, Doc: m.Doc, ReturnsDoc: m.ReturnsDoc, Params: params, Returns: string(m.Returns), Timeout: t.timeoutOf(m.Name),
			Attachments: withRequestID(nil), PayloadLimit: t.payloadLimit, Upload: dubboUpload(params),
		},
	}
}

// dubboUpload reports whether a route takes a file: a byte[] argument from the body. Such
// routes also read multipart/form-data and raw bodies, within the upload limit.
func dubboUpload(params []ir.DubboParam) bool {
	for _, p := range params {
		if (p.From == ir.FromBody || p.From == ir.FromWholeBody) && javatype.Name(p.Type).Family() == javatype.Bytes {
			return true
		}
	}
	return false
}

// dubboDownload checks a rule's download setting against the method and path template.
func dubboDownload(m idl.JavaMethod, d *DownloadRule, tmpl *httprule.Template) (*ir.Download, error) {
	if d == nil {
		return nil, nil
	}
	if javatype.Name(string(m.Returns)).Family() != javatype.Bytes {
		return nil, fmt.Errorf("download: %s returns %s, not byte[]", signature(m), m.Returns)
	}
	vars := map[string]bool{}
	for _, v := range tmpl.Variables {
		vars[v.FieldPath] = true
	}
	for _, ref := range filenameVarRE.FindAllStringSubmatch(d.Filename, -1) {
		if !vars[ref[1]] {
			return nil, fmt.Errorf("download: filename %q uses {%s}, which is not a path variable", d.Filename, ref[1])
		}
	}
	return &ir.Download{ContentType: d.ContentType, Filename: d.Filename}, nil
}

// filenameVarRE finds the "{var}" references of a download filename.
var filenameVarRE = regexp.MustCompile(`\{([^{}]*)\}`)

// withRequestID is the attachments a Dubbo route forwards: the rule's headers, plus
// x-request-id, so that the request's id reaches Dubbo providers as it reaches HTTP and gRPC
// upstreams.
func withRequestID(headers []string) []string {
	for _, h := range headers {
		if h == "*" || strings.EqualFold(h, ir.RequestIDHeader) {
			return headers
		}
	}
	return append(slices.Clone(headers), ir.RequestIDHeader)
}

// simple reports whether a value of type t fits in one query parameter: a scalar family (see
// javatype.Family.Scalar) or an enum.
func (t dubboTarget) simple(typ idl.TypeName) bool {
	return typ.Family().Scalar() || t.js.classes[typ.Erasure()].Kind == idl.ClassEnum
}

// unmapped says why m cannot be served when a parameter or its result needs a Java class that
// has no JSON mapping (javatype.Unsupported), or returns "".
func unmapped(m idl.JavaMethod) string {
	for j, p := range m.Params {
		if c := p.Type.Unsupported(); c != "" {
			return fmt.Sprintf("its argument %s %s, which has no JSON mapping", paramName(p, j), needs(p.Type, c))
		}
	}
	if c := m.Returns.Unsupported(); c != "" {
		return fmt.Sprintf("its result %s, which has no JSON mapping", needs(m.Returns, c))
	}
	return ""
}

// needs says that type t needs class c: "is a java.util.UUID", "(java.util.List<java.util.UUID>)
// needs java.util.UUID".
func needs(t idl.TypeName, c string) string {
	if string(t) == c {
		return "is a " + c
	}
	return "(" + string(t) + ") needs " + c
}

// dubboRoutes builds the candidate routes of one Dubbo service: the default routes of every
// method (see the package documentation), except for methods that rules route instead.
func dubboRoutes(svc bridge.Service, js javaService, rules []RPCRule, defaultTimeout time.Duration) ([]candidate, []diag.Diagnostic) {
	t := dubboTarget{svc: svc, js: js, defaultTimeout: defaultTimeout}
	methods := js.iface.Methods
	var ds []diag.Diagnostic
	t.callTimeout, t.methodTimeouts, ds = providerTimeouts(svc, methods)
	var payloadDiags []diag.Diagnostic
	t.payloadLimit, payloadDiags = providerPayload(svc)
	ds = append(ds, payloadDiags...)
	overloads := map[string]int{}
	for _, m := range methods {
		overloads[m.Name]++
	}

	refused := make([]string, len(methods))
	for i, m := range methods {
		if refused[i] = unmapped(m); refused[i] != "" {
			ds = append(ds, diagnostic(diag.JavaTypeUnmapped, diag.Warning, svc.ID, fmt.Sprintf("method %s is not served: %s", signature(m), refused[i])))
		}
	}

	ruled := make([][]candidate, len(methods))
	for _, r := range rules {
		i, err := pickOverload(js.iface, r)
		if err == nil && refused[i] != "" {
			err = fmt.Errorf("method %s cannot be served: %s", signature(methods[i]), refused[i])
		}
		if err == nil {
			var c candidate
			if c, err = t.ruleCandidate(methods[i], r); err == nil {
				ruled[i] = append(ruled[i], c)
			}
		}
		if err != nil {
			ds = append(ds, diagnostic(diag.RuleUnresolved, diag.Error, r.Origin, err.Error()+"; the rule is skipped"))
		}
	}

	var out []candidate
	base := dubboBasePath(svc)
	reported := map[string]bool{}
	for i, m := range methods {
		if len(ruled[i]) > 0 {
			out = append(out, ruled[i]...)
			continue
		}
		if refused[i] != "" {
			continue
		}
		path := base + "/" + m.Name
		if overloads[m.Name] > 1 {
			path += overloadSuffix(m)
			if !reported[m.Name] {
				reported[m.Name] = true
				ds = append(ds, diagnostic(diag.DubboOverloaded, diag.Info, svc.ID, fmt.Sprintf(
					"method %s is overloaded: each overload is served at %s/%s~<parameter types>, not at %s/%s", m.Name, base, m.Name, base, m.Name)))
			}
		}
		origin := "default route of " + svc.ID + " " + signature(m)
		post := make([]ir.DubboParam, len(m.Params))
		allSimple := true
		for j, p := range m.Params {
			name := paramName(p, j)
			post[j] = ir.DubboParam{Name: name, Type: string(p.Type), From: ir.FromBody, Key: name}
			allSimple = allSimple && t.simple(p.Type)
		}
		r := t.route(m, "POST", post)
		r.Match.Path = path
		out = append(out, candidate{origin: origin, route: r})
		if allSimple {
			get := make([]ir.DubboParam, len(post))
			for j, p := range post {
				p.From = ir.FromQuery
				get[j] = p
			}
			r := t.route(m, "GET", get)
			r.Match.Path = path
			out = append(out, candidate{origin: origin, route: r})
		}
	}
	return out, ds
}

// pickOverload finds the method a rule names.
func pickOverload(iface idl.JavaInterface, r RPCRule) (int, error) {
	var found []int
	for i, m := range iface.Methods {
		if m.Name == r.Method {
			found = append(found, i)
		}
	}
	if len(found) == 0 {
		return 0, fmt.Errorf("interface %s has no method %q", iface.Name, r.Method)
	}
	var sigs []string
	for _, i := range found {
		sigs = append(sigs, signature(iface.Methods[i]))
	}
	if r.ParamTypes == nil {
		if len(found) > 1 {
			return 0, fmt.Errorf("method %q of %s is overloaded (%s): set paramTypes to pick one", r.Method, iface.Name, strings.Join(sigs, ", "))
		}
		return found[0], nil
	}
	want := r.Method + "(" + strings.Join(r.ParamTypes, ",") + ")"
	for k, i := range found {
		if sigs[k] == want {
			return i, nil
		}
	}
	return 0, fmt.Errorf("interface %s has no overload %s (it has %s)", iface.Name, want, strings.Join(sigs, ", "))
}

// ruleCandidate binds a rule's HTTP request to method m.
func (t dubboTarget) ruleCandidate(m idl.JavaMethod, r RPCRule) (candidate, error) {
	httpMethod := r.HTTP.Method
	tmpl, err := httprule.Parse(r.HTTP.Path)
	if err != nil {
		return candidate{}, err
	}
	vars := map[string]bool{}
	for _, v := range tmpl.Variables {
		vars[v.FieldPath] = true
	}
	explicit := map[string]ArgRule{}
	names := map[string]int{}
	for j, p := range m.Params {
		names[paramName(p, j)] = j
		names["arg"+strconv.Itoa(j)] = j
	}
	for _, a := range r.Params {
		j, ok := names[a.Arg]
		if !ok {
			return candidate{}, fmt.Errorf("method %s has no argument %q", signature(m), a.Arg)
		}
		name := paramName(m.Params[j], j)
		if _, dup := explicit[name]; dup {
			return candidate{}, fmt.Errorf("argument %q is bound twice", a.Arg)
		}
		explicit[name] = a
	}
	params := make([]ir.DubboParam, len(m.Params))
	bound := map[string]bool{}
	wholeBody, bodyFields := 0, 0
	for j, p := range m.Params {
		name := paramName(p, j)
		param := ir.DubboParam{Name: name, Type: string(p.Type), From: defaultSource(httpMethod, vars[name]), Key: name}
		if a, ok := explicit[name]; ok {
			param.From, param.Key = a.From, cmp.Or(a.Key, name)
		}
		switch param.From {
		case ir.FromPath:
			if !vars[param.Key] {
				return candidate{}, fmt.Errorf("argument %q comes from path variable {%s}, which %s does not have", name, param.Key, r.HTTP.Path)
			}
			bound[param.Key] = true
		case ir.FromWholeBody:
			param.Key = ""
			wholeBody++
		case ir.FromBody:
			bodyFields++
		case ir.FromQuery, ir.FromHeader:
		default:
			return candidate{}, fmt.Errorf("argument %q: unknown source %q (want path, query, header, body or wholeBody)", name, param.From)
		}
		params[j] = param
	}
	if wholeBody > 1 || wholeBody == 1 && bodyFields > 0 {
		return candidate{}, fmt.Errorf("the body cannot be a whole argument and also hold other arguments")
	}
	for _, v := range tmpl.Variables {
		if !bound[v.FieldPath] {
			return candidate{}, fmt.Errorf("path variable {%s} binds no argument of %s", v.FieldPath, signature(m))
		}
	}
	route := t.route(m, httpMethod, params)
	setMatchPath(&route.Match, r.HTTP.Path, tmpl)
	route.Dubbo.Attachments = withRequestID(r.Attachments)
	if route.Dubbo.Download, err = dubboDownload(m, r.Download, tmpl); err != nil {
		return candidate{}, err
	}
	if r.Timeout != nil {
		route.Timeout, route.Dubbo.Timeout = r.Timeout.Std(), r.Timeout.Std()
	}
	route.Policy = policyReference(r.Policy)
	return candidate{origin: r.Origin, route: route, tmpl: *tmpl}, nil
}

// defaultSource is where an argument without an explicit source comes from.
func defaultSource(httpMethod string, isPathVar bool) ir.ParamSource {
	switch {
	case isPathVar:
		return ir.FromPath
	case httpMethod == "GET" || httpMethod == "HEAD" || httpMethod == "DELETE":
		return ir.FromQuery
	}
	return ir.FromBody
}
