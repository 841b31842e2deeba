package routetable

// envoy.filters.http.header_mutation, as far as edge policies use it: removing request headers
// (a policy's identity headers, which only its authentication may set) and appending request
// headers whose value is a literal or one of Envoy's downstream-address operators (the
// client-address header). Per Envoy's filter, the per-route configurations of the route and its
// virtual host apply, most specific first, then the filter-level one; with
// most_specific_header_mutations_wins only the most specific applies. Mutations are applied in
// their order (source/common/http/header_mutation.cc evaluates them one after another).
// Anything else — response, trailer or query mutations, another append action, another
// operator — is refused, which withholds the route.

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

// headerOp is one request header mutation: a removal (value nil) or a set.
type headerOp struct {
	name  string // canonical form, so that applying it allocates nothing for the key
	value func(*http.Request) (string, bool)
	// overwrite replaces the header's values (OVERWRITE_IF_EXISTS_OR_ADD); otherwise the value is
	// appended to them (APPEND_IF_EXISTS_OR_ADD).
	overwrite bool
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
			out = append(out, headerOp{name: http.CanonicalHeaderKey(a.Remove)})
		case *mutationv3.HeaderMutation_Append:
			op, err := appendOp(a.Append)
			if err != nil {
				return nil, err
			}
			out = append(out, op)
		default:
			return nil, fmt.Errorf("request mutation %T is not supported (only remove and append)", m.GetAction())
		}
	}
	return out, nil
}

// appendOp decodes an append mutation.
func appendOp(o *corev3.HeaderValueOption) (headerOp, error) {
	h := o.GetHeader()
	if len(h.GetRawValue()) > 0 || o.GetKeepEmptyValue() || o.GetAppend() != nil { //nolint:staticcheck // the deprecated append is refused, not read
		return headerOp{}, fmt.Errorf("header %q: only key, value and append_action are supported", h.GetKey())
	}
	op := headerOp{name: http.CanonicalHeaderKey(h.GetKey())}
	switch o.GetAppendAction() {
	case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
	case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
		op.overwrite = true
	default:
		return headerOp{}, fmt.Errorf("header %q: append_action %s is not supported", h.GetKey(), o.GetAppendAction())
	}
	value, err := mutationValue(h.GetValue())
	if err != nil {
		return headerOp{}, fmt.Errorf("header %q: %w", h.GetKey(), err)
	}
	op.value = value
	return op, nil
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
		var v string
		if op.value != nil {
			var ok bool
			if v, ok = op.value(r); !ok {
				continue
			}
		} else if _, present := r.Header[op.name]; !present {
			continue
		}
		if !cloned {
			r, cloned = r.Clone(r.Context()), true
		}
		switch {
		case op.value == nil:
			delete(r.Header, op.name)
		case op.overwrite:
			r.Header[op.name] = []string{v}
		default:
			r.Header[op.name] = append(r.Header[op.name], v)
		}
	}
	return r, true
}
