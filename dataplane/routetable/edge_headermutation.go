package routetable

// envoy.filters.http.header_mutation, as far as edge policies use it: removing request headers
// (a policy's identity headers, which only its authentication may set) and appending request
// headers whose value is a literal or one of Envoy's downstream-address operators (the
// client-address header). Per Envoy's filter, the per-route configurations of the route and its
// virtual host apply, most specific first, then the filter-level one; with
// most_specific_header_mutations_wins only the most specific applies. Mutations are applied in
// their order (source/common/http/header_mutation.cc evaluates them one after another); an
// append is decoded as the router decodes request_headers_to_add (compileHeaderAdd), since
// Envoy's appends are the router's HeadersToAddEntry. Anything else — response, trailer or query
// mutations, an operator the gateway does not execute, a pseudo-header or host — is refused,
// which withholds the route.

import (
	"fmt"
	"net/http"
	"strings"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/rpcbridge/rpcbridge/dataplane/hcm"
)

// headerMutationFilterName is the filter's name in the connection manager.
const headerMutationFilterName = "envoy.filters.http.header_mutation"

// headerMutation is the decoded filter-level configuration.
type headerMutation struct {
	ops              []headerOp
	mostSpecificWins bool
}

// headerOp is one request header mutation: a removal (remove, add.name only) or an append,
// decoded as the router decodes request_headers_to_add (compileHeaderAdd: Envoy's
// header_mutation appends are Router::HeadersToAddEntry values).
type headerOp struct {
	remove bool
	add    headerAdd
}

// newHeaderMutation decodes the filter-level configuration.
func newHeaderMutation(cfg *anypb.Any) (*headerMutation, error) {
	m := &headermutationv3.HeaderMutation{}
	if cfg != nil {
		if err := cfg.UnmarshalTo(m); err != nil {
			return nil, fmt.Errorf("decode HeaderMutation: %w", err)
		}
	}
	ops, err := requestMutations(m.GetMutations())
	if err != nil {
		return nil, err
	}
	return &headerMutation{ops: ops, mostSpecificWins: m.GetMostSpecificHeaderMutationsWins()}, nil
}

// requestMutations are the request header mutations of ms; any other mutation is an error.
func requestMutations(ms *headermutationv3.Mutations) ([]headerOp, error) {
	if len(ms.GetResponseMutations()) > 0 || len(ms.GetQueryParameterMutations()) > 0 ||
		len(ms.GetRequestTrailersMutations()) > 0 || len(ms.GetResponseTrailersMutations()) > 0 {
		return nil, fmt.Errorf("only request header mutations are supported")
	}
	var out []headerOp
	for _, m := range ms.GetRequestMutations() {
		switch a := m.GetAction().(type) {
		case *mutationv3.HeaderMutation_Remove:
			out = append(out, headerOp{remove: true, add: headerAdd{name: http.CanonicalHeaderKey(a.Remove)}})
		case *mutationv3.HeaderMutation_Append:
			add, err := compileHeaderAdd(a.Append)
			if err != nil {
				return nil, err
			}
			out = append(out, headerOp{add: add})
		default:
			return nil, fmt.Errorf("request mutation %T is not supported (only remove and append)", m.GetAction())
		}
	}
	return out, nil
}

// mutationValue compiles a header value: a literal (%% standing for %), or exactly one of
// Envoy's downstream-address operators (the formatter of request_headers_to_add, docs: "Custom
// request/response headers"). It is the one value compiler of the header_mutation filter and of
// the router's request_headers_to_add (routeheaders.go).
// An operator whose value is unknown yields no header, as Envoy skips a header whose formatted
// value is empty.
func mutationValue(v string) (func(*http.Request) (string, bool), error) {
	address := func(trusted bool) func(*http.Request) (string, bool) {
		return func(r *http.Request) (string, bool) {
			d, ok := hcm.FromContext(r.Context())
			a := d.DirectRemoteAddress
			if trusted {
				a = d.RemoteAddress
			}
			if !ok || !a.IsValid() {
				return "", false
			}
			return a.Unmap().String(), true
		}
	}
	switch v {
	case "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%":
		return address(true), nil
	case "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%":
		return address(false), nil
	}
	if strings.Contains(strings.ReplaceAll(v, "%%", ""), "%") {
		return nil, fmt.Errorf("value %q: only a literal or one of %%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%%, %%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%% is supported", v)
	}
	v = strings.ReplaceAll(v, "%%", "%") // the formatter's escape of a literal %
	return func(*http.Request) (string, bool) { return v, v != "" }, nil
}

// step implements edgeFilter.
func (h *headerMutation) step(route, vhost *anypb.Any) (EdgeStep, error) {
	var ops []headerOp
	found := false
	for _, cfg := range []*anypb.Any{route, vhost} {
		if cfg == nil {
			continue
		}
		per := &headermutationv3.HeaderMutationPerRoute{}
		if err := cfg.UnmarshalTo(per); err != nil {
			return nil, fmt.Errorf("decode HeaderMutationPerRoute: %w", err)
		}
		o, err := requestMutations(per.GetMutations())
		if err != nil {
			return nil, err
		}
		ops, found = append(ops, o...), true
		if h.mostSpecificWins {
			break
		}
	}
	if !found || !h.mostSpecificWins {
		ops = append(ops, h.ops...)
	}
	if len(ops) == 0 {
		return nil, nil
	}
	return headerOps(ops), nil
}

// headerOps is the step that applies request header mutations in order.
type headerOps []headerOp

// Serve implements EdgeStep. The request it is given is never changed: the first mutation that
// would change something works on a clone.
func (ops headerOps) Serve(_ http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	cloned := false
	for _, op := range ops {
		a := op.add
		_, present := r.Header[a.name]
		var v string
		if !op.remove {
			var ok bool
			if v, ok = a.value(r); !ok && !a.keepEmpty {
				continue
			}
		}
		overwrite := a.action == corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD ||
			a.action == corev3.HeaderValueOption_OVERWRITE_IF_EXISTS
		switch {
		case op.remove && !present,
			a.action == corev3.HeaderValueOption_ADD_IF_ABSENT && present,
			a.action == corev3.HeaderValueOption_OVERWRITE_IF_EXISTS && !present:
			continue
		}
		if !cloned {
			r, cloned = r.Clone(r.Context()), true
		}
		switch {
		case op.remove:
			delete(r.Header, a.name)
		case overwrite:
			r.Header[a.name] = []string{v}
		default:
			r.Header[a.name] = append(r.Header[a.name], v)
		}
	}
	return r, true
}
