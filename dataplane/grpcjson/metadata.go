package grpcjson

import (
	"encoding/base64"
	"net"
	"net/http"
	"strings"

	"google.golang.org/grpc/metadata"
)

// hopByHop are the HTTP/1.1 connection-level headers, never forwarded (RFC 9110 7.6.1), plus
// the headers the gRPC request replaces.
var hopByHop = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-connection": true, "transfer-encoding": true,
	"upgrade": true, "te": true, "trailer": true, "host": true,
	"content-type": true, "content-length": true, "user-agent": true,
}

// outgoingMetadata turns the request headers into gRPC metadata: every header except the
// hop-by-hop ones (including those the Connection header names), reserved grpc-* headers and
// keys gRPC cannot carry. "-bin" headers carry base64 and are decoded. X-Forwarded-For and
// X-Forwarded-Proto are set as the plain proxy sets them.
func outgoingMetadata(r *http.Request) metadata.MD {
	md := make(metadata.MD, len(r.Header)+2)
	dropped := map[string]bool{}
	for _, v := range r.Header.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			dropped[strings.ToLower(strings.TrimSpace(name))] = true
		}
	}
	for name, values := range r.Header {
		key := strings.ToLower(name)
		if hopByHop[key] || dropped[key] || strings.HasPrefix(key, "grpc-") || !validKey(key) {
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
	forwarded := strings.Join(md["x-forwarded-for"], ", ")
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if forwarded != "" {
			forwarded += ", "
		}
		forwarded += ip
	}
	if forwarded != "" {
		md["x-forwarded-for"] = []string{forwarded}
	}
	if len(md["x-forwarded-proto"]) == 0 {
		proto := "http"
		if r.TLS != nil {
			proto = "https"
		}
		md["x-forwarded-proto"] = []string{proto}
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
		if hopByHop[key] || strings.HasPrefix(key, "grpc-") || strings.HasPrefix(key, ":") {
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
