package hcm

import (
	"net/http"
	"strings"
)

// maxNominatedHeaders is the number of Connection tokens from which Envoy refuses a request.
const maxNominatedHeaders = 10

// sanitizeConnection does what Envoy's HTTP/1 codec does with the Connection header before the
// connection manager sees the request (http1/codec_impl.cc, Utility::sanitizeConnectionHeader):
// an h2c upgrade offer is dropped (Upgrade, HTTP2-Settings and their Connection tokens), the
// headers Connection nominates are removed (TE is kept as "trailers" when it offered trailers),
// and a request nominating ten or more headers, an X-Forwarded-For/-Host/-Proto header or a
// pseudo-header is refused with 400: removing them would hide where the request came from.
func sanitizeConnection(h http.Header) error {
	if hasToken(h, headerConnection, "upgrade") && strings.EqualFold(strings.TrimSpace(h.Get(headerUpgrade)), "h2c") {
		h.Del(headerUpgrade)
		h.Del(headerHTTP2Settings)
		setTokens(h, headerConnection, func(t string) bool {
			return !strings.EqualFold(t, "upgrade") && !strings.EqualFold(t, "http2-settings")
		})
	}
	if isUpgrade(h) {
		return nil // the codec is in upgrade mode; the connection manager refuses the request
	}
	nominated := tokens(h, headerConnection)
	if len(nominated) == 0 {
		return nil
	}
	if len(nominated) >= maxNominatedHeaders {
		return connectionRejected(h)
	}
	drop := map[string]bool{}
	for _, t := range nominated {
		name := strings.ToLower(t)
		switch {
		case name == "close" || name == "http2-settings" || name == "keep-alive" || name == "upgrade":
			// Connection options, not header names; the connection manager handles them.
		case name == "connection":
			drop[name] = true
		case name == "x-forwarded-for" || name == "x-forwarded-host" || name == "x-forwarded-proto" || strings.HasPrefix(name, ":"):
			return connectionRejected(h)
		case name == "te" && hasToken(h, headerTE, "trailers"):
			h.Set(headerTE, "trailers")
		default:
			h.Del(t)
			drop[name] = true
		}
	}
	setTokens(h, headerConnection, func(t string) bool { return !drop[strings.ToLower(t)] })
	return nil
}

// isUpgrade is Envoy's Utility::isUpgrade: Connection names upgrade and Upgrade is set.
func isUpgrade(h http.Header) bool {
	return hasToken(h, headerConnection, "upgrade") && len(h.Values(headerUpgrade)) > 0
}

// connectionRejected is the 400 Envoy answers for an invalid Connection header.
func connectionRejected(h http.Header) error {
	return &Rejection{Status: http.StatusBadRequest, Detail: "http1.connection_header_rejected",
		Message: "invalid nominated headers in Connection: " + strings.Join(h.Values(headerConnection), ", ")}
}

// setTokens keeps the comma-separated tokens of a header for which keep is true, deleting the
// header when none is left.
func setTokens(h http.Header, name string, keep func(string) bool) {
	var kept []string
	for _, t := range tokens(h, name) {
		if keep(t) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		h.Del(name)
		return
	}
	h.Set(name, strings.Join(kept, ","))
}
