package grpcjson

import (
	"mime"
	"strconv"
	"strings"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// StreamFormat is how the messages of a server stream are laid out in the HTTP body.
type StreamFormat int

// The stream formats. StreamAsConfigured is Envoy's grpc_json_transcoder: the print options
// choose a JSON array (the default), newline-delimited JSON (stream_newline_delimited) or
// Server-Sent Events (stream_sse_style_delimited), each message as it is, and a status that ends
// the stream after the first message only in the grpc-status/grpc-message trailers. The other two
// are what a client asks for with Accept (see StreamFormatFor), in the form browsers and
// grpc-gateway clients read, with the status in the body too.
const (
	// StreamAsConfigured follows the transcoder's print options (Envoy's behaviour).
	StreamAsConfigured StreamFormat = iota
	// StreamNDJSON is grpc-gateway's format (runtime/handler.go ForwardResponseStream): one line
	// per message, {"result": <message>}, and an error as the line {"error": <google.rpc.Status>};
	// an error before the first message is answered with its HTTP status and that line.
	StreamNDJSON
	// StreamSSE is Server-Sent Events: "data: <message>\n\n" per message and an error as the
	// event "event: error\ndata: <google.rpc.Status>\n\n"; an error before the first message is
	// answered with its HTTP status and that event.
	StreamSSE
)

// Media types a client names in Accept to choose a stream format.
const (
	mediaNDJSON      = "application/x-ndjson"
	mediaJSONLines   = "application/jsonl"
	mediaEventStream = "text/event-stream"
)

// StreamFormatFor is the format the Accept header values ask for: application/x-ndjson or
// application/jsonl → StreamNDJSON, text/event-stream → StreamSSE, the first of them that is
// listed (with a non-zero q); anything else (application/json, */*, no Accept) →
// StreamAsConfigured. contentType is the media type the response is labelled with (empty for
// StreamAsConfigured: the print options decide).
func StreamFormatFor(accept []string) (format StreamFormat, contentType string) {
	for _, value := range accept {
		for part := range strings.SplitSeq(value, ",") {
			media, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if v, err := strconv.ParseFloat(q, 64); err != nil || v <= 0 {
					continue
				}
			}
			switch media {
			case mediaNDJSON, mediaJSONLines:
				return StreamNDJSON, media
			case mediaEventStream:
				return StreamSSE, media
			}
		}
	}
	return StreamAsConfigured, ""
}

// framing is how the messages of a server stream are laid out in the HTTP body.
type framing struct {
	open, separator, close, before, after string
	// result wraps each message as grpc-gateway does: {"result": <message>}.
	result bool
	// errorChunk, when set, is the body chunk that reports a status ending the stream (nil:
	// only the trailers report it, as in Envoy).
	errorChunk func(st *status.Status) []byte
}

// streamFraming is the framing of a server stream in format: for StreamAsConfigured it follows
// the print options (a JSON array by default, newline-delimited JSON, or Server-Sent Events,
// which wins over newline-delimited). HttpBody streams are raw whatever the format.
func (t *Transcoder) streamFraming(httpBody bool, format StreamFormat, accepted string) (framing, string) {
	po := t.cfg.GetPrintOptions()
	switch {
	case httpBody:
		return framing{}, ""
	case format == StreamNDJSON:
		return framing{after: "\n", result: true, errorChunk: func(st *status.Status) []byte {
			return append(append([]byte(`{"error":`), t.statusBody(st)...), "}\n"...)
		}}, accepted
	case format == StreamSSE:
		return framing{before: "data: ", after: "\n\n", errorChunk: func(st *status.Status) []byte {
			return append(append([]byte("event: error\ndata: "), t.statusBody(st)...), "\n\n"...)
		}}, accepted
	case po.GetStreamSseStyleDelimited():
		return framing{before: "data: ", after: "\n\n"}, "text/event-stream"
	case po.GetStreamNewlineDelimited():
		return framing{after: "\n"}, "application/json"
	default:
		return framing{open: "[", separator: ",", close: "]"}, "application/json"
	}
}

// statusBody is the google.rpc.Status JSON of st; without its details when they cannot be
// rendered (their types are not in the descriptor set).
func (t *Transcoder) statusBody(st *status.Status) []byte {
	if body, ok := t.StatusJSON(st); ok {
		return body
	}
	body, ok := t.StatusJSON(status.FromProto(&spb.Status{Code: int32(st.Code()), Message: st.Message()}))
	if !ok {
		return []byte(`{"code":` + strconv.Itoa(int(codes.Internal)) + `}`)
	}
	return body
}

// wrapResult is a rendered message inside grpc-gateway's {"result": …} envelope.
func wrapResult(chunk []byte) []byte {
	out := make([]byte, 0, len(chunk)+11)
	out = append(out, `{"result":`...)
	out = append(out, chunk...)
	return append(out, '}')
}
