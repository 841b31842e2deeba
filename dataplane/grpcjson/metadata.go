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
		key := strings.ToLower(name)
		if replaced[key] || strings.HasPrefix(key, "grpc-") || !validKey(key) {
			continue
		}
		for _, v := range values {
			if strings.HasSuffix(key, "-bin") {
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
