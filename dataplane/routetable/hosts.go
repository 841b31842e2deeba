package routetable

import (
	"net"
	"sort"
	"strings"
)

// hostIndex selects a virtual host by the request's Host the way Envoy does: exact domains
// first, then the longest suffix wildcard (*.example.com), then the longest prefix wildcard
// (example.*), then "*".
type hostIndex struct {
	exact    map[string]*virtualHost
	suffixes []wildcard // "*.example.com" stored as ".example.com", longest first
	prefixes []wildcard // "example.*" stored as "example.", longest first
	any      *virtualHost
}

// wildcard is one wildcard domain with its virtual host.
type wildcard struct {
	part string
	host *virtualHost
}

// newHostIndex indexes the domains of virtual hosts.
func newHostIndex(hosts []*virtualHost) hostIndex {
	idx := hostIndex{exact: map[string]*virtualHost{}}
	for _, vh := range hosts {
		for _, d := range vh.domains {
			switch {
			case d == "*":
				idx.any = vh
			case strings.HasPrefix(d, "*"):
				idx.suffixes = append(idx.suffixes, wildcard{part: d[1:], host: vh})
			case strings.HasSuffix(d, "*"):
				idx.prefixes = append(idx.prefixes, wildcard{part: d[:len(d)-1], host: vh})
			default:
				idx.exact[d] = vh
			}
		}
	}
	longestFirst := func(w []wildcard) {
		sort.SliceStable(w, func(i, j int) bool { return len(w[i].part) > len(w[j].part) })
	}
	longestFirst(idx.suffixes)
	longestFirst(idx.prefixes)
	return idx
}

// lookup returns the virtual host for a Host header value, trying it as sent and then without
// its port.
func (idx hostIndex) lookup(host string) *virtualHost {
	host = strings.ToLower(host)
	candidates := []string{host}
	if h, _, err := net.SplitHostPort(host); err == nil {
		candidates = append(candidates, h)
	}
	for _, c := range candidates {
		if vh, ok := idx.exact[c]; ok {
			return vh
		}
	}
	for _, c := range candidates {
		for _, w := range idx.suffixes {
			if len(c) > len(w.part) && strings.HasSuffix(c, w.part) {
				return w.host
			}
		}
	}
	for _, c := range candidates {
		for _, w := range idx.prefixes {
			if len(c) > len(w.part) && strings.HasPrefix(c, w.part) {
				return w.host
			}
		}
	}
	return idx.any
}
