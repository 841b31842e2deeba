package hcm

import (
	"net/http"
	"net/netip"
	"strings"

	"github.com/google/uuid"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
)

// Conn is what Apply needs to know about the downstream connection.
type Conn struct {
	// Remote is the connection's peer address (invalid when it is not an IP connection).
	Remote netip.Addr
	// Local is what Envoy calls the local address (LocalInfo's address, the host's first
	// non-loopback address): appended to X-Forwarded-For instead of a loopback peer.
	Local netip.Addr
	// TLS is set for connections over TLS.
	TLS bool
}

// Rejection is a request refused before routing, as Envoy's codec and connection manager refuse
// it: Status is the HTTP status, Detail Envoy's response code detail.
type Rejection struct {
	Status  int
	Detail  string
	Message string
}

func (r *Rejection) Error() string { return r.Message }

// Header names, in Go's canonical form.
const (
	headerConnection    = "Connection"
	headerUpgrade       = "Upgrade"
	headerTE            = "Te"
	headerXFF           = "X-Forwarded-For"
	headerXFP           = "X-Forwarded-Proto"
	headerInternal      = "X-Envoy-Internal"
	headerExternalAddr  = "X-Envoy-External-Address"
	headerClientCert    = "X-Forwarded-Client-Cert"
	headerHTTP2Settings = "Http2-Settings"
)

// cleanedEdgeSet and cleanedExternalSet are cleanedFromEdge and cleanedFromExternal as sets of
// canonical names.
var cleanedEdgeSet, cleanedExternalSet = canonicalSet(cleanedFromEdge), canonicalSet(cleanedFromExternal)

// canonicalSet is the set of the canonical forms of names.
func canonicalSet(names []string) map[string]bool {
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[http.CanonicalHeaderKey(n)] = true
	}
	return out
}

// headerRequestID is ir.RequestIDHeader in canonical form, so that Set and Get need not
// canonicalize (and allocate) it per request.
var headerRequestID = http.CanonicalHeaderKey(ir.RequestIDHeader)

// cleanedFromEdge are removed from edge requests (external, with use_remote_address), and
// cleanedFromExternal from every request that is not internal: ConnectionManagerUtility::
// cleanInternalHeaders.
var (
	cleanedFromEdge = []string{
		"X-Envoy-Decorator-Operation", "X-Envoy-Downstream-Service-Cluster", "X-Envoy-Downstream-Service-Node",
	}
	cleanedFromExternal = []string{
		"X-Envoy-Retriable-Status-Codes", "X-Envoy-Retriable-Header-Names", "X-Envoy-Retry-On",
		"X-Envoy-Retry-Grpc-On", "X-Envoy-Max-Retries", "X-Envoy-Upstream-Alt-Stat-Name",
		"X-Envoy-Upstream-Rq-Timeout-Ms", "X-Envoy-Upstream-Rq-Per-Try-Timeout-Ms",
		"X-Envoy-Upstream-Rq-Timeout-Alt-Response", "X-Envoy-Expected-Rq-Timeout-Ms",
		"X-Envoy-Force-Trace", "X-Envoy-Ip-Tags", "X-Envoy-Original-Url", "X-Envoy-Hedge-On-Per-Try-Timeout",
	}
)

// Apply rewrites the request headers h (which the caller owns) as Envoy does between reading
// them and routing, and returns what it found out about the downstream. A *Rejection error means
// the request must be answered with its status and not forwarded.
func (p *Policy) Apply(h http.Header, c Conn) (Downstream, error) {
	if err := sanitizeConnection(h); err != nil {
		return Downstream{}, err
	}
	for _, k := range p.EarlyRemove {
		h.Del(k)
	}
	var upgrade string
	if isUpgrade(h) {
		// Envoy keeps Connection and Upgrade of an upgrade request and refuses it, 403
		// upgrade_failed, unless upgrade_configs (of the HCM, or of the route the request
		// matches: see UpgradeRejection) allow that upgrade.
		upgrade = strings.ToLower(strings.TrimSpace(h.Get(headerUpgrade)))
		if !p.MayUpgrade(upgrade) {
			return Downstream{}, UpgradeRejection(h.Get(headerUpgrade))
		}
	}
	drop := []string{headerConnection, headerUpgrade, headerInternal, "Keep-Alive", "Proxy-Connection", "Transfer-Encoding"}
	if upgrade != "" {
		drop = drop[2:] // an allowed upgrade keeps Connection and Upgrade, as Envoy's HCM does
	}
	for _, k := range drop {
		h.Del(k)
	}
	sanitizeTE(h)

	remote := c.Remote.Unmap()
	d := Downstream{DirectRemoteAddress: remote, Upgrade: upgrade}
	var trusted netip.Addr
	var trustChecks bool // Envoy's allow_trusted_address_checks
	if p.UseRemoteAddress {
		trustChecks = len(h.Values(headerXFF)) == 0
		if p.XFFNumTrustedHops > 0 {
			trusted, _ = lastXFFAddress(h, p.XFFNumTrustedHops-1)
		}
		if !trusted.IsValid() {
			trusted = remote
		}
		if !p.SkipXFFAppend && remote.IsValid() {
			appended := remote
			if remote.IsLoopback() && c.Local.IsValid() {
				appended = c.Local
			}
			appendXFF(h, appended)
		}
		if p.XFFNumTrustedHops == 0 || len(h.Values(headerXFP)) == 0 {
			h.Set(headerXFP, scheme(c))
		}
	} else {
		trusted, trustChecks = lastXFFAddress(h, p.XFFNumTrustedHops)
	}
	if len(h.Values(headerXFP)) == 0 {
		h.Set(headerXFP, scheme(c))
	}
	d.Internal = trustChecks && trusted.IsValid() && p.internal(trusted)
	if !trusted.IsValid() {
		trusted = remote
	}
	d.RemoteAddress = trusted
	edge := !d.Internal && p.UseRemoteAddress
	d.Edge = edge
	if d.Internal {
		h.Set(headerInternal, "true")
	} else {
		p.cleanInternalHeaders(h, edge)
	}
	if edge && trusted.IsValid() {
		h.Set(headerExternalAddr, trusted.String())
	}
	if p.GenerateRequestID {
		force := !p.PreserveExternalRequestID && edge
		if force || len(h.Values(headerRequestID)) == 0 {
			h.Set(headerRequestID, uuid.NewString())
		}
	}
	d.RequestID = h.Get(headerRequestID)
	if !p.ForwardClientCert {
		h.Del(headerClientCert)
	}
	return d, nil
}

// cleanInternalHeaders removes the Envoy control headers (and the internal-only headers) that
// an external client must not set.
// It goes over the request's headers (a few) rather than the lists (about twenty): the same
// (canonical) keys go, as h.Del of each listed name removes only its canonical key.
func (p *Policy) cleanInternalHeaders(h http.Header, edge bool) {
	for k := range h {
		if cleanedExternalSet[k] || edge && cleanedEdgeSet[k] {
			delete(h, k)
		}
	}
	for _, k := range p.InternalOnlyHeaders {
		h.Del(k)
	}
}

// scheme is the X-Forwarded-Proto of the connection itself.
func scheme(c Conn) string {
	if c.TLS {
		return "https"
	}
	return "http"
}

// lastXFFAddress is Envoy's Utility::getLastAddressFromXFF: the address numToSkip entries from
// the right end of X-Forwarded-For (invalid when there are not enough entries or it is not an
// IP address), and whether X-Forwarded-For holds exactly that one address and nothing was
// skipped.
func lastXFFAddress(h http.Header, numToSkip uint32) (netip.Addr, bool) {
	values := h.Values(headerXFF)
	if len(values) == 0 {
		return netip.Addr{}, false
	}
	xff := strings.Join(values, ",")
	for range numToSkip {
		i := strings.LastIndexByte(xff, ',')
		if i < 0 {
			return netip.Addr{}, false
		}
		xff = xff[:i]
	}
	last := xff
	comma := strings.LastIndexByte(xff, ',')
	if comma >= 0 {
		last = xff[comma+1:]
	}
	addr, err := netip.ParseAddr(strings.TrimSpace(last))
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, false
	}
	return addr.Unmap(), comma < 0 && numToSkip == 0
}

// appendXFF appends addr to X-Forwarded-For as Envoy does: one header, entries joined by ",".
func appendXFF(h http.Header, addr netip.Addr) {
	values := append(h.Values(headerXFF), addr.String())
	h.Set(headerXFF, strings.Join(values, ","))
}

// sanitizeTE keeps TE only as "trailers", and only when it offered trailers (Envoy ≥ 1.29.3,
// envoy.reloadable_features.sanitize_te; envoyproxy/envoy#30535 and #32255).
func sanitizeTE(h http.Header) {
	if len(h.Values(headerTE)) == 0 {
		return
	}
	if hasToken(h, headerTE, "trailers") {
		h.Set(headerTE, "trailers")
		return
	}
	h.Del(headerTE)
}

// hasToken reports whether the comma-separated header name lists token (case-insensitively).
func hasToken(h http.Header, name, token string) bool {
	for _, t := range tokens(h, name) {
		if strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// tokens are the non-empty, trimmed comma-separated elements of every value of a header.
func tokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}
