package grpcjson

import (
	"encoding/base64"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"
)

// replaced are the request headers the gRPC request itself replaces (its own Host, TE,
// content type, length and user agent); grpc-go sets them. Connection-level headers
// (Connection and what it names, Keep-Alive, Proxy-*, Upgrade, Transfer-Encoding) never get
// here: the gateway's connection manager (package hcm) removed them before routing, as it did
// for every other path.
var replaced = map[string]bool{
	"te": true, "trailer": true, "host": true,
	"content-type": true, "content-length": true, "user-agent": true,
}

// responseDropped are the response metadata keys the transcoded HTTP response does not copy:
// its own framing headers and connection-level ones.
var responseDropped = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true,
	"upgrade": true, "te": true, "trailer": true, "host": true,
	"content-type": true, "content-length": true, "user-agent": true,
}

// outgoingMetadata turns the request headers into gRPC metadata: every header except those the
// gRPC request replaces, reserved grpc-* headers and keys gRPC cannot carry. "-bin" headers
// carry base64 and are decoded. The forwarding headers (X-Forwarded-For, X-Forwarded-Proto,
// x-request-id, ...) are forwarded as the connection manager left them.
func outgoingMetadata(r *http.Request) metadata.MD {
	md := make(metadata.MD, len(r.Header))
	for name, values := range r.Header {
		key := lowerName(name)
		if replaced[key] || strings.HasPrefix(key, "grpc-") || !validKey(key) {
			continue
		}
		binary := strings.HasSuffix(key, "-bin")
		if _, dup := md[key]; !dup && !binary && allPrintable(values) {
			// The request's own values, capped so that an append copies: nothing changes the
			// request's headers once it is transcoded.
			md[key] = values[:len(values):len(values)]
			continue
		}
		for _, v := range values {
			if binary {
				decoded, err := decodeBinHeader(v)
				if err != nil {
					continue
				}
				v = string(decoded)
			} else if !printable(v) {
				continue
			}
			md[key] = append(md[key], v)
		}
	}
	return md
}

// commonLower are the lower-case forms of headers most requests carry, so that lowerName finds
// them without allocating.
var commonLower = lowerTable("Accept", "Accept-Encoding", "Accept-Language", "Authorization",
	"Cache-Control", "Content-Length", "Content-Type", "Cookie", "Origin", "Referer", "User-Agent",
	"Traceparent", "Tracestate", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
	"X-Request-Id", "X-Real-Ip", "X-B3-Traceid", "X-B3-Spanid", "X-B3-Parentspanid", "X-B3-Sampled",
	"X-Envoy-Expected-Rq-Timeout-Ms", "X-Envoy-Original-Path", "X-Envoy-Attempt-Count",
	"X-Envoy-External-Address", "X-Envoy-Internal")

// lowerTable maps each name to its lower-case form.
func lowerTable(names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, name := range names {
		out[name] = strings.ToLower(name)
	}
	return out
}

// lowerName is name in lower case, without allocating for lower-case names and common headers.
func lowerName(name string) string {
	if l, ok := commonLower[name]; ok {
		return l
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// allPrintable reports whether every value is printable ASCII.
func allPrintable(values []string) bool {
	for _, v := range values {
		if !printable(v) {
			return false
		}
	}
	return true
}

// validKey reports whether gRPC accepts key as a metadata key.
func validKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// printable reports whether v is printable ASCII, the only form of a non-binary gRPC value.
func printable(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// decodeBinHeader decodes a "-bin" header value, padded or not.
func decodeBinHeader(v string) ([]byte, error) {
	if len(v)%4 == 0 {
		return base64.StdEncoding.DecodeString(v)
	}
	return base64.RawStdEncoding.DecodeString(v)
}

// copyMetadata writes gRPC response metadata as HTTP headers, as Envoy passes upstream response
// headers on: unchanged, except the ones the transcoded response replaces. "-bin" values are
// base64-encoded again.
func copyMetadata(h http.Header, md metadata.MD) {
	for key, values := range md {
		if responseDropped[key] || strings.HasPrefix(key, "grpc-") || strings.HasPrefix(key, ":") {
			continue
		}
		for _, v := range values {
			if strings.HasSuffix(key, "-bin") {
				v = base64.RawStdEncoding.EncodeToString([]byte(v))
			}
			h.Add(key, v)
		}
	}
}
