// Package grpcweb executes Envoy's envoy.filters.http.grpc_web for the embedded gateway: a
// gRPC-Web request (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md) goes upstream
// as gRPC, and the gRPC response comes back as gRPC-Web, its trailers in the body. The semantics
// are those of Envoy's source/extensions/filters/http/grpc_web/grpc_web_filter.cc:
//
//   - A request whose content type is application/grpc-web, application/grpc-web+proto,
//     application/grpc-web-text or application/grpc-web-text+proto is converted; any other
//     passes unchanged. The upstream request has content-type application/grpc, te: trailers,
//     no content-length; a -text body (base64, in padded quanta) is decoded first, and one that
//     does not decode is answered 400.
//   - The response is application/grpc-web+proto, or application/grpc-web-text+proto (its body
//     base64-encoded chunk by chunk) when the request's Accept is application/grpc-web-text.
//     The gRPC trailers become the trailer frame: flag 0x80, a 4-byte big-endian length and
//     "name:value\r\n" lines with lower-case names. A trailers-only response keeps its status in
//     the headers.
//   - A response that is not gRPC (a local error, an upstream answering HTTP) becomes a
//     trailers-only gRPC-Web response: grpc-status from the HTTP status (gRPC's
//     doc/http-grpc-status-mapping.md) and grpc-message from the first 1024 bytes of its body
//     (Envoy's MAX_GRPC_MESSAGE_LENGTH), so that a gRPC-Web client sees a status, not a parse
//     error.
package grpcweb

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Content types of the protocol.
const (
	contentTypeGRPC         = "application/grpc"
	contentTypeWeb          = "application/grpc-web"
	contentTypeWebProto     = "application/grpc-web+proto"
	contentTypeWebText      = "application/grpc-web-text"
	contentTypeWebTextProto = "application/grpc-web-text+proto"
	// trailerFlag marks the trailer frame of a gRPC-Web body.
	trailerFlag = 0x80
	// maxMessage bounds the grpc-message taken from a non-gRPC response's body.
	maxMessage = 1024
)

// IsGRPCWeb reports whether r is a gRPC-Web request.
func IsGRPCWeb(r *http.Request) bool {
	_, ok := kind(r.Header.Get("Content-Type"))
	return ok
}

// kind says whether a content type is gRPC-Web and whether it is the base64 (-text) form.
func kind(contentType string) (text, ok bool) {
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false, false
	}
	switch media {
	case contentTypeWeb, contentTypeWebProto:
		return false, true
	case contentTypeWebText, contentTypeWebTextProto:
		return true, true
	}
	return false, false
}

// RequestError is a gRPC-Web request that cannot be converted: answer it with Status.
type RequestError struct {
	Status  int
	Message string
}

// Error implements error.
func (e *RequestError) Error() string { return e.Message }

// Convert turns a gRPC-Web request (IsGRPCWeb) into the gRPC request to send upstream and w into
// the writer that turns the gRPC response back into gRPC-Web. Serve the returned request with the
// returned writer, then call finish, which writes the trailer frame (or the whole answer of a
// non-gRPC response). A -text body is decoded in memory, within maxBody bytes (413 beyond it);
// a *RequestError says how to answer a request that cannot be converted.
func Convert(w http.ResponseWriter, r *http.Request, maxBody int64) (http.ResponseWriter, *http.Request, func(), error) {
	text, ok := kind(r.Header.Get("Content-Type"))
	if !ok {
		return w, r, func() {}, nil
	}
	out := r.Clone(r.Context())
	if text && r.Body != nil && r.Body != http.NoBody {
		encoded, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return nil, nil, nil, &RequestError{Status: http.StatusBadRequest, Message: fmt.Sprintf("reading the gRPC-Web request body: %v", err)}
		}
		if int64(len(encoded)) > maxBody {
			return nil, nil, nil, &RequestError{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("gRPC-Web request body is larger than %d bytes", maxBody)}
		}
		decoded, err := decodeText(encoded)
		if err != nil {
			return nil, nil, nil, &RequestError{Status: http.StatusBadRequest, Message: "gRPC-Web text body: " + err.Error()}
		}
		out.Body = io.NopCloser(bytes.NewReader(decoded))
	}
	out.ContentLength = -1
	out.Header.Del("Content-Length")
	out.Header.Set("Content-Type", contentTypeGRPC)
	out.Header.Set("Te", "trailers")
	textResponse := false
	for _, a := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(a, ",") {
			if media, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && (media == contentTypeWebText || media == contentTypeWebTextProto) {
				textResponse = true
			}
		}
	}
	rw := &writer{out: w, header: http.Header{}, text: textResponse}
	return rw, out, rw.finish, nil
}

// decodeText decodes a -text body: base64 in quanta of four characters, each padded or not, as
// Envoy decodes it (the size must be a multiple of four).
func decodeText(in []byte) ([]byte, error) {
	in = bytes.TrimSpace(in)
	if len(in)%4 != 0 {
		return nil, fmt.Errorf("length %d is not a multiple of 4", len(in))
	}
	out := make([]byte, 0, len(in)/4*3)
	var buf [3]byte
	for i := 0; i < len(in); i += 4 {
		n, err := base64.StdEncoding.Decode(buf[:], in[i:i+4])
		if err != nil {
			return nil, errors.New("not base64")
		}
		out = append(out, buf[:n]...)
	}
	return out, nil
}

// writer turns the gRPC response written to it into gRPC-Web on out. Its own header map keeps
// what the handler sets after the header went out: the trailers (announced in "Trailer", or
// with http.TrailerPrefix), which finish writes as the trailer frame.
type writer struct {
	out    http.ResponseWriter
	header http.Header
	text   bool
	// wrote: the header is out; grpc: the response is gRPC (else it is held for finish).
	wrote, grpc bool
	status      int
	announced   []string
	held        bytes.Buffer
}

// Header implements http.ResponseWriter.
func (w *writer) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter.
func (w *writer) WriteHeader(code int) {
	if w.wrote || code < 200 {
		return
	}
	w.wrote, w.status = true, code
	media, _, _ := mime.ParseMediaType(w.header.Get("Content-Type"))
	w.grpc = media == contentTypeGRPC || strings.HasPrefix(media, contentTypeGRPC+"+")
	if !w.grpc {
		return // finish answers it
	}
	for _, v := range w.header.Values("Trailer") {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				w.announced = append(w.announced, http.CanonicalHeaderKey(k))
			}
		}
	}
	h := w.out.Header()
	for k, v := range w.header {
		if k != "Trailer" && k != "Content-Length" && !strings.HasPrefix(k, http.TrailerPrefix) {
			h[k] = v
		}
	}
	h.Set("Content-Type", w.contentType())
	w.out.WriteHeader(code)
}

// contentType is the content type of the gRPC-Web response.
func (w *writer) contentType() string {
	if w.text {
		return contentTypeWebTextProto
	}
	return contentTypeWebProto
}

// Write implements http.ResponseWriter.
func (w *writer) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if !w.grpc {
		if room := maxMessage - w.held.Len(); room > 0 {
			w.held.Write(p[:min(len(p), room)])
		}
		return len(p), nil
	}
	if w.text {
		if _, err := io.WriteString(w.out, base64.StdEncoding.EncodeToString(p)); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return w.out.Write(p)
}

// Flush lets streamed messages through as they come.
func (w *writer) Flush() {
	if w.wrote && w.grpc {
		_ = http.NewResponseController(w.out).Flush()
	}
}

// finish writes the trailer frame of a gRPC response, or answers a non-gRPC one as a
// trailers-only gRPC-Web response.
func (w *writer) finish() {
	if !w.wrote {
		return // nothing was answered: the caller's own error path answers
	}
	if !w.grpc {
		h := w.out.Header()
		h.Set("Content-Type", w.contentType())
		h.Set("Grpc-Status", strconv.Itoa(grpcStatusOf(w.status)))
		h.Set("Grpc-Message", url.PathEscape(strings.TrimSpace(w.held.String())))
		h.Set("Content-Length", "0")
		w.out.WriteHeader(http.StatusOK)
		return
	}
	trailers := http.Header{}
	for _, k := range w.announced {
		if v, ok := w.header[k]; ok {
			trailers[k] = v
		}
	}
	for k, v := range w.header {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			trailers[http.CanonicalHeaderKey(name)] = v
		}
	}
	if len(trailers) == 0 {
		return // trailers-only, or an upstream that sent none: the status is in the headers
	}
	_, _ = w.Write(TrailerFrame(trailers))
	w.Flush()
}

// TrailerFrame is the gRPC-Web frame that carries trailers: flag 0x80, the block's length
// (4 bytes, big-endian), then one "name:value\r\n" line per value, names lower-cased and sorted.
func TrailerFrame(trailers http.Header) []byte {
	keys := make([]string, 0, len(trailers))
	for k := range trailers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var block bytes.Buffer
	for _, k := range keys {
		for _, v := range trailers[k] {
			block.WriteString(strings.ToLower(k))
			block.WriteByte(':')
			block.WriteString(v)
			block.WriteString("\r\n")
		}
	}
	frame := make([]byte, 5, 5+block.Len())
	frame[0] = trailerFlag
	binary.BigEndian.PutUint32(frame[1:], uint32(block.Len()))
	return append(frame, block.Bytes()...)
}

// grpcStatusOf maps an HTTP status to a gRPC code as gRPC's
// doc/http-grpc-status-mapping.md does (Envoy's Grpc::Utility::httpToGrpcStatus).
func grpcStatusOf(code int) int {
	switch code {
	case http.StatusOK:
		return 2 // a non-gRPC 200 carries no status: UNKNOWN
	case http.StatusBadRequest:
		return 13 // INTERNAL
	case http.StatusUnauthorized:
		return 16 // UNAUTHENTICATED
	case http.StatusForbidden:
		return 7 // PERMISSION_DENIED
	case http.StatusNotFound:
		return 12 // UNIMPLEMENTED
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return 14 // UNAVAILABLE
	default:
		return 2 // UNKNOWN
	}
}
