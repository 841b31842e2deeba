package routetable

// envoy.filters.http.header_mutation, as far as edge policies use it: removing request headers
// (a policy's identity headers, which only its authentication may set). Per Envoy's filter, the
// per-route configurations of the route and its virtual host apply, most specific first, then
// the filter-level one; with most_specific_header_mutations_wins only the most specific applies.
// Mutations other than removing request headers are refused, which withholds the route.

import (
	"fmt"
	"net/http"

	mutationv3 "github.com/envoyproxy/go-control-plane/envoy/config/common/mutation_rules/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// headerMutationFilterName is the filter's name in the connection manager.
const headerMutationFilterName = "envoy.filters.http.header_mutation"

// headerMutation is the decoded filter-level configuration.
type headerMutation struct {
	remove           []string
	mostSpecificWins bool
}

// newHeaderMutation decodes the filter-level configuration.
func newHeaderMutation(cfg *anypb.Any) (*headerMutation, error) {
	m := &headermutationv3.HeaderMutation{}
	if cfg != nil {
		if err := cfg.UnmarshalTo(m); err != nil {
			return nil, fmt.Errorf("decode HeaderMutation: %w", err)
		}
	}
	remove, err := requestRemovals(m.GetMutations())
	if err != nil {
		return nil, err
	}
	return &headerMutation{remove: remove, mostSpecificWins: m.GetMostSpecificHeaderMutationsWins()}, nil
}

// requestRemovals are the request headers ms removes; any other mutation is an error.
func requestRemovals(ms *headermutationv3.Mutations) ([]string, error) {
	if len(ms.GetResponseMutations()) > 0 || len(ms.GetQueryParameterMutations()) > 0 ||
		len(ms.GetRequestTrailersMutations()) > 0 || len(ms.GetResponseTrailersMutations()) > 0 {
		return nil, fmt.Errorf("only request header removals are supported")
	}
	var out []string
	for _, m := range ms.GetRequestMutations() {
		r, ok := m.GetAction().(*mutationv3.HeaderMutation_Remove)
		if !ok {
			return nil, fmt.Errorf("request mutation %T is not supported (only remove)", m.GetAction())
		}
		out = append(out, r.Remove)
	}
	return out, nil
}

// step implements edgeFilter.
func (h *headerMutation) step(route, vhost *anypb.Any) (EdgeStep, error) {
	var remove []string
	for _, cfg := range []*anypb.Any{route, vhost} {
		if cfg == nil {
			continue
		}
		per := &headermutationv3.HeaderMutationPerRoute{}
		if err := cfg.UnmarshalTo(per); err != nil {
			return nil, fmt.Errorf("decode HeaderMutationPerRoute: %w", err)
		}
		r, err := requestRemovals(per.GetMutations())
		if err != nil {
			return nil, err
		}
		remove = append(remove, r...)
		if h.mostSpecificWins {
			break
		}
	}
	if remove == nil || !h.mostSpecificWins {
		remove = append(remove, h.remove...)
	}
	if len(remove) == 0 {
		return nil, nil
	}
	canonical := make(removeHeaders, len(remove))
	for i, h := range remove {
		canonical[i] = http.CanonicalHeaderKey(h)
	}
	return canonical, nil
}

// removeHeaders is the step that removes request headers, named in canonical form (so that
// looking them up allocates nothing per request).
type removeHeaders []string

// Serve implements EdgeStep.
func (rh removeHeaders) Serve(_ http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	present := false
	for _, h := range rh {
		if _, ok := r.Header[h]; ok {
			present = true
			break
		}
	}
	if !present {
		return r, true
	}
	r = r.Clone(r.Context())
	for _, h := range rh {
		delete(r.Header, h)
	}
	return r, true
}
