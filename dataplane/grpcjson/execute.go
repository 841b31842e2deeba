package grpcjson

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rawCodec sends and receives already serialized messages ([]byte / *[]byte), so that the
// transcoder encodes dynamic messages itself. Its name keeps the standard content subtype.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("grpcjson codec: cannot send %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("grpcjson codec: cannot receive into %T", v)
	}
	*p = data.Materialize()
	return nil
}

// Execute sends the call over conn and writes the HTTP response to w. ctx bounds the call (its
// deadline is the gRPC deadline). It returns the call's error, if any, after answering it:
// the status mapped to HTTP, with a google.rpc.Status JSON body when convert_grpc_status is set.
func (t *Transcoder) Execute(ctx context.Context, w http.ResponseWriter, call *Call, conn grpc.ClientConnInterface) error {
	ctx = metadata.NewOutgoingContext(ctx, call.Metadata)
	b := call.Binding
	if !b.Method.IsStreamingClient() && !b.Method.IsStreamingServer() {
		var header, trailer metadata.MD
		var reply []byte
		err := conn.Invoke(ctx, b.FullMethod, call.Requests[0], &reply,
			grpc.Header(&header), grpc.Trailer(&trailer), grpc.ForceCodecV2(rawCodec{}))
		return t.finishUnary(w, b, header, trailer, reply, err)
	}
	return t.stream(ctx, w, call, conn)
}

// finishUnary answers a call with one response. Trailing metadata becomes headers too: the
// whole response is known before anything is written.
func (t *Transcoder) finishUnary(w http.ResponseWriter, b *Binding, header, trailer metadata.MD, reply []byte, callErr error) error {
	h := w.Header()
	copyMetadata(h, header)
	copyMetadata(h, trailer)
	if callErr != nil {
		st := status.Convert(callErr)
		t.writeStatus(w, st)
		return callErr
	}
	var body []byte
	contentType := "application/json"
	var err error
	if b.Method.Output().FullName() == httpBodyName {
		contentType, body, err = httpBodyParts(b.Method.Output(), reply)
	} else {
		body, err = t.RenderResponse(b, reply)
	}
	if err != nil {
		t.writeStatus(w, status.New(codes.Internal, err.Error()))
		return err
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Grpc-Status", "0")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}

// writeStatus answers with a gRPC status: a google.rpc.Status JSON body when
// convert_grpc_status is set (and its details can be rendered), else grpc-status and
// grpc-message headers and no body.
func (t *Transcoder) writeStatus(w http.ResponseWriter, st *status.Status) {
	h := w.Header()
	code := HTTPStatus(st.Code())
	if t.cfg.GetConvertGrpcStatus() {
		if body, ok := t.StatusJSON(st); ok {
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(code)
			_, _ = w.Write(body)
			return
		}
	}
	h.Set("Grpc-Status", strconv.Itoa(int(st.Code())))
	if msg := st.Message(); msg != "" {
		h.Set("Grpc-Message", encodeGrpcMessage(msg))
	}
	w.WriteHeader(code)
}

// stream runs a streaming call. Messages are written and flushed as they arrive, framed in the
// format the request's Accept chose (StreamFormatFor; the print options by default). An error
// before the first message is answered like a unary error (with its HTTP status and the
// format's error chunk when Accept chose one); a later one ends the body and is reported in the
// grpc-status and grpc-message trailers, and in the body too when Accept chose a format.
func (t *Transcoder) stream(ctx context.Context, w http.ResponseWriter, call *Call, conn grpc.ClientConnInterface) error {
	b := call.Binding
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	desc := &grpc.StreamDesc{StreamName: string(b.Method.Name()),
		ServerStreams: b.Method.IsStreamingServer(), ClientStreams: b.Method.IsStreamingClient()}
	cs, err := conn.NewStream(ctx, desc, b.FullMethod, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return t.finishUnary(w, b, nil, nil, nil, err)
	}
	for _, req := range call.Requests {
		if err := cs.SendMsg(req); err != nil {
			break // the server ended the call; RecvMsg reports how
		}
	}
	if err := cs.CloseSend(); err != nil {
		return t.finishUnary(w, b, nil, nil, nil, err)
	}
	if !desc.ServerStreams {
		var reply []byte
		err := cs.RecvMsg(&reply)
		header, _ := cs.Header()
		return t.finishUnary(w, b, header, cs.Trailer(), reply, err)
	}

	httpBody := b.Method.Output().FullName() == httpBodyName
	format, accepted := StreamFormatFor(call.Accept)
	frame, contentType := t.streamFraming(httpBody, format, accepted)
	flusher := http.NewResponseController(w)
	h := w.Header()
	started := false
	start := func(ct string) {
		header, _ := cs.Header()
		copyMetadata(h, header)
		h.Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, frame.open)
		started = true
	}
	var streamErr error
	for {
		var reply []byte
		err := cs.RecvMsg(&reply)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !started && frame.errorChunk != nil {
			header, _ := cs.Header()
			copyMetadata(h, header)
			copyMetadata(h, cs.Trailer())
			st := status.Convert(err)
			h.Set("Content-Type", contentType)
			h.Set("Grpc-Status", strconv.Itoa(int(st.Code())))
			w.WriteHeader(HTTPStatus(st.Code()))
			_, _ = w.Write(frame.errorChunk(st))
			return err
		}
		if err != nil && !started {
			header, _ := cs.Header()
			return t.finishUnary(w, b, header, cs.Trailer(), nil, err)
		}
		if err != nil {
			streamErr = err
			break
		}
		var chunk []byte
		ct := contentType
		if httpBody {
			ct, chunk, err = httpBodyParts(b.Method.Output(), reply)
		} else {
			chunk, err = t.RenderResponse(b, reply)
		}
		if err != nil {
			streamErr = status.Error(codes.Internal, err.Error())
			break
		}
		if frame.result {
			chunk = wrapResult(chunk)
		}
		if started {
			_, _ = io.WriteString(w, frame.separator)
		} else {
			start(ct)
		}
		_, _ = io.WriteString(w, frame.before)
		_, _ = w.Write(chunk)
		_, _ = io.WriteString(w, frame.after)
		_ = flusher.Flush()
	}
	if !started {
		start(contentType)
	}
	if streamErr != nil && frame.errorChunk != nil {
		_, _ = w.Write(frame.errorChunk(status.Convert(streamErr)))
	}
	_, _ = io.WriteString(w, frame.close)
	trailer := http.Header{}
	copyMetadata(trailer, cs.Trailer())
	for key, values := range trailer {
		h[http.TrailerPrefix+key] = values
	}
	st := status.Convert(streamErr)
	h.Set(http.TrailerPrefix+"Grpc-Status", strconv.Itoa(int(st.Code())))
	if msg := st.Message(); msg != "" {
		h.Set(http.TrailerPrefix+"Grpc-Message", encodeGrpcMessage(msg))
	}
	return streamErr
}

// encodeGrpcMessage percent-encodes a status message as the grpc-message header requires.
func encodeGrpcMessage(msg string) string {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(msg))
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c >= 0x20 && c <= 0x7e && c != '%' {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
