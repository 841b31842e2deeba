package routetable

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// stringMatch reports whether a value satisfies an Envoy StringMatcher.
type stringMatch func(value string) bool

// compileRegex compiles an Envoy RE2 safe_regex, which must match the whole input.
func compileRegex(re *matcherv3.RegexMatcher) (*regexp.Regexp, error) {
	compiled, err := regexp.Compile(`^(?:` + re.GetRegex() + `)$`)
	if err != nil {
		return nil, fmt.Errorf("safe_regex %q: %w", re.GetRegex(), err)
	}
	return compiled, nil
}

// compileStringMatcher turns an Envoy StringMatcher into a predicate.
func compileStringMatcher(m *matcherv3.StringMatcher) (stringMatch, error) {
	fold := m.GetIgnoreCase()
	norm := func(s string) string {
		if fold {
			return strings.ToLower(s)
		}
		return s
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		want := norm(p.Exact)
		return func(v string) bool { return norm(v) == want }, nil
	case *matcherv3.StringMatcher_Prefix:
		want := norm(p.Prefix)
		return func(v string) bool { return strings.HasPrefix(norm(v), want) }, nil
	case *matcherv3.StringMatcher_Suffix:
		want := norm(p.Suffix)
		return func(v string) bool { return strings.HasSuffix(norm(v), want) }, nil
	case *matcherv3.StringMatcher_Contains:
		want := norm(p.Contains)
		return func(v string) bool { return strings.Contains(norm(v), want) }, nil
	case *matcherv3.StringMatcher_SafeRegex:
		re, err := compileRegex(p.SafeRegex)
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	default:
		return nil, fmt.Errorf("unsupported string matcher %T", p)
	}
}

// headerMatcher is a compiled Envoy HeaderMatcher.
type headerMatcher struct {
	name          string
	value         stringMatch // nil for present_match
	present       bool        // the present_match value when value is nil
	invert        bool
	missingAsNone bool // treat_missing_header_as_empty
}

// compileHeaderMatcher compiles one route header matcher, including the deprecated inline forms.
func compileHeaderMatcher(h *routev3.HeaderMatcher) (headerMatcher, error) {
	out := headerMatcher{
		name:          strings.ToLower(h.GetName()),
		invert:        h.GetInvertMatch(),
		missingAsNone: h.GetTreatMissingHeaderAsEmpty(),
	}
	var err error
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_StringMatch:
		out.value, err = compileStringMatcher(s.StringMatch)
	case *routev3.HeaderMatcher_ExactMatch:
		out.value, err = compileStringMatcher(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: s.ExactMatch}})
	case *routev3.HeaderMatcher_PrefixMatch:
		out.value, err = compileStringMatcher(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: s.PrefixMatch}})
	case *routev3.HeaderMatcher_SuffixMatch:
		out.value, err = compileStringMatcher(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Suffix{Suffix: s.SuffixMatch}})
	case *routev3.HeaderMatcher_ContainsMatch:
		out.value, err = compileStringMatcher(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Contains{Contains: s.ContainsMatch}})
	case *routev3.HeaderMatcher_SafeRegexMatch:
		out.value, err = compileStringMatcher(&matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: s.SafeRegexMatch}})
	case *routev3.HeaderMatcher_PresentMatch:
		out.present = s.PresentMatch
	case nil:
		// No specifier: Envoy treats this as "header is present".
		out.present = true
	default:
		return out, fmt.Errorf("header %q: unsupported header matcher %T", h.GetName(), s)
	}
	if err != nil {
		return out, fmt.Errorf("header %q: %w", h.GetName(), err)
	}
	return out, nil
}

// matches applies the matcher to a request, following Envoy's rules for absent headers.
func (h headerMatcher) matches(r *http.Request) bool {
	value, found := headerValue(r, h.name)
	if !found && h.missingAsNone {
		value, found = "", true
	}
	if !found {
		if h.value != nil {
			return false
		}
		// present_match on an absent header.
		return h.present == h.invert
	}
	var result bool
	if h.value != nil {
		result = h.value(value)
	} else {
		result = h.present
	}
	return result != h.invert
}

// headerValue reads a header the way Envoy sees it: pseudo-headers from the request line,
// repeated headers joined with commas.
func headerValue(r *http.Request, name string) (string, bool) {
	switch name {
	case ":method":
		return r.Method, true
	case ":authority", "host":
		return r.Host, true
	case ":path":
		return r.URL.RequestURI(), true
	case ":scheme":
		if r.TLS != nil {
			return "https", true
		}
		return "http", true
	}
	values := r.Header.Values(name)
	if len(values) == 0 {
		return "", false
	}
	return strings.Join(values, ","), true
}

// queryMatcher is a compiled Envoy QueryParameterMatcher.
type queryMatcher struct {
	name  string
	value stringMatch // nil: the parameter must be present
}

// compileQueryMatcher compiles one route query parameter matcher.
func compileQueryMatcher(q *routev3.QueryParameterMatcher) (queryMatcher, error) {
	out := queryMatcher{name: q.GetName()}
	switch s := q.GetQueryParameterMatchSpecifier().(type) {
	case *routev3.QueryParameterMatcher_StringMatch:
		value, err := compileStringMatcher(s.StringMatch)
		if err != nil {
			return out, fmt.Errorf("query parameter %q: %w", q.GetName(), err)
		}
		out.value = value
	case *routev3.QueryParameterMatcher_PresentMatch, nil:
	default:
		return out, fmt.Errorf("query parameter %q: unsupported matcher %T", q.GetName(), s)
	}
	return out, nil
}

// matches reports whether the request's query string satisfies the matcher.
func (q queryMatcher) matches(r *http.Request) bool {
	values, ok := r.URL.Query()[q.name]
	if !ok {
		return false
	}
	if q.value == nil {
		return true
	}
	return len(values) > 0 && q.value(values[0])
}
