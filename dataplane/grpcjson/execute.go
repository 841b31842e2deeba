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

// rawCodec sends and receives already serialized messages ([]byte / *[]byte, or a *unaryCall),
// so that the transcoder encodes dynamic messages itself. Its name keeps the standard content
// subtype.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	switch m := v.(type) {
	case *unaryCall:
		return m.out[:], nil
	case []byte:
		return mem.BufferSlice{mem.SliceBuffer(m)}, nil
	}
	return nil, fmt.Errorf("grpcjson codec: cannot send %T", v)
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *unaryCall:
		m.reply = data.Materialize()
	case *[]byte:
		*m = data.Materialize()
	default:
		return fmt.Errorf("grpcjson codec: cannot receive into %T", v)
	}
	return nil
}

// forceRawCodec is the call option that sends with rawCodec, built once (it is immutable).
var forceRawCodec = grpc.ForceCodecV2(rawCodec{})

// unaryCall is the state of one unary call in one allocation: the request as rawCodec sends
// it, the reply it receives, and the call options that receive the header and trailer. Being
// both the request and the reply value of Invoke, it also saves boxing them.
type unaryCall struct {
	out             [1]mem.Buffer
	reply           []byte
	header, trailer metadata.MD
	opts            [3]grpc.CallOption
}

// invokeUnary runs a unary call and returns its header, trailer and serialized reply.
func invokeUnary(ctx context.Context, conn grpc.ClientConnInterface, method string, req []byte) (*unaryCall, error) {
	u := &unaryCall{}
	u.out[0] = mem.SliceBuffer(req)
	u.opts = [3]grpc.CallOption{grpc.Header(&u.header), grpc.Trailer(&u.trailer), forceRawCodec}
	err := conn.Invoke(ctx, method, u, u, u.opts[:]...)
	return u, err
}

// Execute sends the call over conn and writes the HTTP response to w. ctx bounds the call (its
// deadline is the gRPC deadline). It returns the call's error, if any, after answering it:
// the status mapped to HTTP, with a google.rpc.Status JSON body when convert_grpc_status is set.
func (t *Transcoder) Execute(ctx context.Context, w http.ResponseWriter, call *Call, conn grpc.ClientConnInterface) error {
	ctx = metadata.NewOutgoingContext(ctx, call.Metadata)
	b := call.Binding
	if !b.Method.IsStreamingClient() && !b.Method.IsStreamingServer() {
		u, err := invokeUnary(ctx, conn, b.FullMethod, call.Requests[0])
		return t.finishUnary(w, b, u.header, u.trailer, u.reply, err)
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
		buf := t.bodies.get()
		body, err = t.appendResponse(*buf, b, reply)
		defer t.bodies.put(buf, body)
	}
	if err != nil {
		t.writeStatus(w, status.New(codes.Internal, err.Error()))
		return err
	}
	// One backing array for the three values (each capped, so that an append copies).
	values := [...]string{contentType, strconv.Itoa(len(body)), "0"}
	shared := values[:]
	h["Content-Type"], h["Content-Length"], h["Grpc-Status"] = shared[0:1:1], shared[1:2:2], shared[2:3:3]
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
	cs, err := conn.NewStream(ctx, desc, b.FullMethod, forceRawCodec)
	if err != nil {
		return t.finishUnary(w, b, nil, nil, nil, err)
	}
	for _, req := range call.Requests {
		if err := cs.SendMsg(req); err != nil {
			break // the server ended the call; RecvMsg reports how
		}
	}
	if call.streamed != nil {
		if err := t.sendBody(cs, b, call.streamed); err != nil {
			cancel()
			return t.finishUnary(w, b, nil, nil, nil, status.Error(codes.InvalidArgument, err.Error()))
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
