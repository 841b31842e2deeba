package routetable

// The request headers the router adds and removes: request_headers_to_add and
// request_headers_to_remove of the route, its virtual host and its route configuration, with
// Envoy's semantics (source/common/router/header_parser.cc and config_impl.cc):
//   - each level is evaluated on its own: its removals first, then its additions, whose
//     append_action decides against the headers as they are before the level adds anything
//     (ADD_IF_ABSENT, OVERWRITE_IF_EXISTS); the level's overwrites are applied, then its appends;
//   - the levels run route, virtual host, route configuration (most specific first, so the least
//     specific wins an overwrite), or the other way round with the route configuration's
//     most_specific_header_mutations_wins;
//   - a value that formats empty adds nothing unless keep_empty_value;
//   - the router applies them when it forwards, after the HTTP filters: the edge filters never
//     see them, and a transcoded call gets those of the route it is sent on.
// Values are compiled by the header_mutation executor's compiler (mutationValue: literals and
// the downstream-address operators). A level the gateway cannot execute — another formatter
// operator, raw_value, a pseudo-header or host — withholds the routes it applies to (fail
// closed), as Envoy would refuse the configuration.

import (
	"fmt"
	"net/http"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
)

// RequestHeaders are the router's request header mutations of one route: its own, its virtual
// host's and its route configuration's, in the order the router evaluates them. A nil
// *RequestHeaders changes nothing.
type RequestHeaders struct {
	levels []headerLevel
}

// headerLevel is the request_headers_to_remove and request_headers_to_add of one level.
type headerLevel struct {
	remove []string // canonical header keys
	add    []headerAdd
}

// headerAdd is one entry of request_headers_to_add.
type headerAdd struct {
	name      string // canonical form
	value     func(*http.Request) (string, bool)
	action    corev3.HeaderValueOption_HeaderAppendAction
	keepEmpty bool
}

// routeHeaderSet holds the compiled levels of a route configuration while its routes are
// decoded; a level's error withholds the routes it applies to.
type routeHeaderSet struct {
	global           headerLevel
	globalErr        error
	mostSpecificWins bool
}

// newRouteHeaderSet compiles the route configuration's own level.
func newRouteHeaderSet(rc *routev3.RouteConfiguration) routeHeaderSet {
	level, err := compileHeaderLevel(rc.GetRequestHeadersToAdd(), rc.GetRequestHeadersToRemove())
	if err != nil {
		err = fmt.Errorf("route configuration: %w", err)
	}
	return routeHeaderSet{global: level, globalErr: err, mostSpecificWins: rc.GetMostSpecificHeaderMutationsWins()}
}

// forRoute is the RequestHeaders of a route, given its virtual host's compiled level (and that
// level's error); nil when no level mutates anything.
func (s routeHeaderSet) forRoute(r *routev3.Route, vhost headerLevel, vhostErr error) (*RequestHeaders, error) {
	if s.globalErr != nil {
		return nil, s.globalErr
	}
	if vhostErr != nil {
		return nil, vhostErr
	}
	route, err := compileHeaderLevel(r.GetRequestHeadersToAdd(), r.GetRequestHeadersToRemove())
	if err != nil {
		return nil, fmt.Errorf("route: %w", err)
	}
	levels := []headerLevel{route, vhost, s.global}
	if s.mostSpecificWins {
		levels = []headerLevel{s.global, vhost, route}
	}
	out := &RequestHeaders{}
	for _, l := range levels {
		if len(l.remove) > 0 || len(l.add) > 0 {
			out.levels = append(out.levels, l)
		}
	}
	if len(out.levels) == 0 {
		return nil, nil
	}
	return out, nil
}

// compileVirtualHostHeaders compiles a virtual host's level.
func compileVirtualHostHeaders(vh *routev3.VirtualHost) (headerLevel, error) {
	level, err := compileHeaderLevel(vh.GetRequestHeadersToAdd(), vh.GetRequestHeadersToRemove())
	if err != nil {
		return headerLevel{}, fmt.Errorf("virtual host: %w", err)
	}
	return level, nil
}

// compileHeaderLevel compiles one level's request_headers_to_add and request_headers_to_remove.
func compileHeaderLevel(add []*corev3.HeaderValueOption, remove []string) (headerLevel, error) {
	var out headerLevel
	for _, name := range remove {
		if !modifiableHeader(name) {
			return headerLevel{}, fmt.Errorf("request_headers_to_remove %q: pseudo-headers and host may not be removed", name)
		}
		out.remove = append(out.remove, http.CanonicalHeaderKey(name))
	}
	for _, o := range add {
		a, err := compileHeaderAdd(o)
		if err != nil {
			return headerLevel{}, fmt.Errorf("request_headers_to_add: %w", err)
		}
		out.add = append(out.add, a)
	}
	return out, nil
}

// compileHeaderAdd compiles one HeaderValueOption. The deprecated append flag is read as Envoy
// reads it (true: APPEND_IF_EXISTS_OR_ADD, false: OVERWRITE_IF_EXISTS_OR_ADD), and refused beside
// an append_action other than the default.
func compileHeaderAdd(o *corev3.HeaderValueOption) (headerAdd, error) {
	h := o.GetHeader()
	if !modifiableHeader(h.GetKey()) {
		return headerAdd{}, fmt.Errorf("header %q: pseudo-headers and host may not be modified", h.GetKey())
	}
	if len(h.GetRawValue()) > 0 {
		return headerAdd{}, fmt.Errorf("header %q: raw_value is not supported", h.GetKey())
	}
	action := o.GetAppendAction()
	if o.GetAppend() != nil { //nolint:staticcheck // the deprecated field is read as Envoy still reads it
		if action != corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD {
			return headerAdd{}, fmt.Errorf("header %q: both append and append_action are set", h.GetKey())
		}
		if !o.GetAppend().GetValue() { //nolint:staticcheck // as above
			action = corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
		}
	}
	if _, known := corev3.HeaderValueOption_HeaderAppendAction_name[int32(action)]; !known {
		return headerAdd{}, fmt.Errorf("header %q: unknown append_action %d", h.GetKey(), action)
	}
	value, err := mutationValue(h.GetValue())
	if err != nil {
		return headerAdd{}, fmt.Errorf("header %q: %w", h.GetKey(), err)
	}
	return headerAdd{name: http.CanonicalHeaderKey(h.GetKey()), value: value, action: action, keepEmpty: o.GetKeepEmptyValue()}, nil
}

// modifiableHeader reports whether the router may add or remove a header: not a pseudo-header,
// not host (Envoy's HeaderUtility::isModifiableHeader).
func modifiableHeader(name string) bool {
	return name != "" && !strings.HasPrefix(name, ":") && !strings.EqualFold(name, "host")
}

// Apply returns r with the mutations applied to its headers; r itself is never changed (the
// first change works on a clone). A nil RequestHeaders returns r.
func (rh *RequestHeaders) Apply(r *http.Request) *http.Request {
	if rh == nil {
		return r
	}
	out := r.Clone(r.Context())
	rh.ApplyTo(out.Header, r)
	return out
}

// ApplyTo applies the mutations to h, a request's headers (net/http's canonical keys); r is the
// request the values are formatted for (its downstream addresses).
func (rh *RequestHeaders) ApplyTo(h http.Header, r *http.Request) {
	if rh == nil {
		return
	}
	for _, l := range rh.levels {
		l.apply(h, r)
	}
}

// apply evaluates one level as Envoy's HeaderParser::evaluateHeaders does.
func (l headerLevel) apply(h http.Header, r *http.Request) {
	for _, name := range l.remove {
		delete(h, name)
	}
	type pending struct{ name, value string }
	var overwrite, add []pending
	for _, a := range l.add {
		v, ok := a.value(r)
		if !ok && !a.keepEmpty {
			continue
		}
		_, present := h[a.name]
		switch a.action {
		case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
			add = append(add, pending{a.name, v})
		case corev3.HeaderValueOption_ADD_IF_ABSENT:
			if !present {
				add = append(add, pending{a.name, v})
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
			if present {
				overwrite = append(overwrite, pending{a.name, v})
			}
		case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
			overwrite = append(overwrite, pending{a.name, v})
		}
	}
	for _, p := range overwrite {
		h[p.name] = []string{p.value}
	}
	for _, p := range add {
		h[p.name] = append(h[p.name], p.value)
	}
}
