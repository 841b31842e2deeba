package grpcjson

// Streaming calls over WebSocket (RFC 6455), for browsers, which cannot stream a request body:
// the handshake is matched against the bindings of a streaming method, each text frame the
// client sends is one request message (the binding's body, on top of the path variables and
// query parameters), each response message is one text frame, and the call's gRPC status closes
// the connection. The frames follow grpc-gateway's stream format, as tmc/grpc-websocket-proxy
// (which wraps grpc-gateway) sends them: {"result": <message>} per message and
// {"error": <google.rpc.Status>} before a close for a status other than OK. Close codes:
// 1000 for OK, 4000+<gRPC code> for every other status (RFC 6455 §7.4.2 leaves 4000–4999 to
// applications; unlike a mapping onto the 1000-range codes it loses nothing), with the status
// message as reason (cut to 123 bytes, the limit of a close frame); what the client did wrong
// is closed with RFC 6455 §7.4.1's codes: 1003 for a binary frame, 1007 for a frame that is not
// a JSON request message, 1008 for a message after the end of the client stream, 1009 (by the
// library) for a frame over the size limit.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Close codes of the WebSocket bridge beyond RFC 6455's (see the file comment).
const (
	// CloseStatusBase + a gRPC code closes a call that ended with that status (not OK).
	CloseStatusBase = 4000
	// maxCloseReason is the longest reason a close frame carries (125 bytes less the code).
	maxCloseReason = 123
)

// webSocketMethods are the HTTP methods whose bindings a handshake (always a GET) is matched
// against, in this order: POST first, as tmc/grpc-websocket-proxy rewrites the handshake to a
// POST by default, then GET (a server-streaming method bound to GET), then the others.
var webSocketMethods = []string{http.MethodPost, http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete}

// handshakeHeaders are the handshake's own headers, not sent as gRPC metadata.
var handshakeHeaders = []string{"connection", "upgrade", "sec-websocket-key", "sec-websocket-version",
	"sec-websocket-extensions", "sec-websocket-protocol"}

// IsWebSocket reports whether r is a WebSocket opening handshake (RFC 6455 §4.2.1): a GET with
// Upgrade: websocket and Connection naming upgrade.
func IsWebSocket(r *http.Request) bool {
	if r.Method != http.MethodGet || !strings.EqualFold(strings.TrimSpace(r.Header.Get("Upgrade")), "websocket") {
		return false
	}
	for _, v := range r.Header.Values("Connection") {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}

// WebSocketCall is a WebSocket handshake matched to a streaming method, ready for
// ServeWebSocket.
type WebSocketCall struct {
	// Binding is the binding the handshake matched.
	Binding *Binding
	// Metadata is the outgoing gRPC metadata taken from the handshake's headers.
	Metadata metadata.MD
	// FrameLimit bounds a frame the client sends (max_request_body_size, else
	// DefaultMaxRequestBodySize).
	FrameLimit int64
	// OnActivity, when set, is called for every frame read or written: the frames pass the
	// hijacked connection, not the HTTP server, so its stream idle timeout must be told.
	OnActivity func()
	// Timeout, when positive, is the route timeout. As in Envoy, where it runs from the end of
	// the downstream request, it starts when the client stream ends (the empty frame, or the
	// one request message of a server-streaming method), so a conversation is not cut while the
	// client still talks; the call then ends with DEADLINE_EXCEEDED (close 4004).
	Timeout time.Duration

	vars   map[string]string
	params []boundParam
}

// PrepareWebSocket matches a WebSocket handshake against the bindings of the streaming methods
// (client, server or bidirectional streaming; see webSocketMethods for the order) and binds its
// path variables and query parameters, which every request message of the call starts from. It
// returns ErrNotTranscoded when no streaming binding matches (the handshake then goes upstream
// as it is, like any request the transcoder does not handle) and a *RequestError for a bad
// query parameter.
func (t *Transcoder) PrepareWebSocket(r *http.Request) (*WebSocketCall, error) {
	path := r.URL.EscapedPath()
	var b *Binding
	var vars map[string]string
	for _, m := range webSocketMethods {
		if mb, mv, ok := t.Match(m, path); ok && (mb.Method.IsStreamingClient() || mb.Method.IsStreamingServer()) {
			b, vars = mb, mv
			break
		}
	}
	if b == nil {
		return nil, ErrNotTranscoded
	}
	params, err := t.bindQuery(b, r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	md := outgoingMetadata(r)
	for _, k := range handshakeHeaders {
		delete(md, k)
	}
	limit := int64(DefaultMaxRequestBodySize)
	if m := t.cfg.GetMaxRequestBodySize(); m != nil {
		limit = int64(m.GetValue())
	}
	return &WebSocketCall{Binding: b, Metadata: md, FrameLimit: limit, vars: vars, params: params}, nil
}

// clientEnd is how the client side of a bridged call ended.
type clientEnd struct {
	// code and reason close the connection when the client broke the protocol (zero: it did not).
	code   websocket.StatusCode
	reason string
	// gone: the client closed the connection or it was lost; nothing more can be sent.
	gone bool
}

// ServeWebSocket opens the call's gRPC stream over conn, accepts the WebSocket upgrade and
// bridges the two until the call ends (see the file comment for the frames and close codes).
// ctx bounds the call; call.Timeout, the route timeout, is armed when the client stream ends. A
// stream that cannot be opened is answered before the upgrade, as a unary error. It returns the
// call's error, if any.
func (t *Transcoder) ServeWebSocket(ctx context.Context, w http.ResponseWriter, r *http.Request, call *WebSocketCall, conn grpc.ClientConnInterface) error {
	b := call.Binding
	ctx, cancel := context.WithCancel(metadata.NewOutgoingContext(ctx, call.Metadata))
	defer cancel()
	desc := &grpc.StreamDesc{StreamName: string(b.Method.Name()),
		ServerStreams: b.Method.IsStreamingServer(), ClientStreams: b.Method.IsStreamingClient()}
	cs, err := conn.NewStream(ctx, desc, b.FullMethod, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		t.writeStatus(w, status.Convert(err))
		return err
	}
	// Envoy does not check a WebSocket handshake's Origin either; the route's edge policy
	// (CORS, JWT, API keys) ran before this.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return fmt.Errorf("websocket upgrade: %w", err) // Accept answered the handshake
	}
	ws.SetReadLimit(call.FrameLimit)

	var end clientEnd
	var endMu sync.Mutex
	readDone := make(chan struct{})
	// The reader's context outlives the call's: cancelling a Read's context closes the
	// connection at once, and the close frame with the call's status must go out first.
	readCtx, stopRead := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRead()
	var timedOut atomic.Bool
	var timer *time.Timer
	var timerMu sync.Mutex
	clientDone := func() { // the client stream ended: the route timeout starts
		timerMu.Lock()
		defer timerMu.Unlock()
		if call.Timeout > 0 && timer == nil {
			timer = time.AfterFunc(call.Timeout, func() { timedOut.Store(true); cancel() })
		}
	}
	defer func() {
		timerMu.Lock()
		defer timerMu.Unlock()
		if timer != nil {
			timer.Stop()
		}
	}()
	go func() {
		defer close(readDone)
		e := t.pump(readCtx, ws, cs, call, clientDone)
		endMu.Lock()
		end = e
		endMu.Unlock()
		if e.gone || e.code != 0 {
			cancel() // the call ends with its client
		}
	}()

	st := t.relay(ctx, ws, cs, call)
	if timedOut.Load() {
		st = status.Newf(codes.DeadlineExceeded, "the route timeout of %s expired", call.Timeout)
	}
	endMu.Lock()
	e := end
	endMu.Unlock()
	switch {
	case e.code != 0:
		_ = ws.Close(e.code, closeReason(e.reason))
	case e.gone:
		_ = ws.CloseNow()
	case st.Code() == codes.OK:
		_ = ws.Close(websocket.StatusNormalClosure, "")
	default:
		// The status with its details, then the close that carries its code.
		if err := ws.Write(readCtx, websocket.MessageText, append(append([]byte(`{"error":`), t.statusBody(st)...), '}')); err == nil {
			_ = ws.Close(websocket.StatusCode(CloseStatusBase+int(st.Code())), closeReason(st.Message()))
		}
	}
	_ = ws.CloseNow()
	stopRead()
	<-readDone
	if e.code != 0 {
		return fmt.Errorf("websocket client: %s", e.reason)
	}
	return st.Err()
}

// relay sends each response message to the client as a text frame until the call ends, and
// returns its status.
func (t *Transcoder) relay(ctx context.Context, ws *websocket.Conn, cs grpc.ClientStream, call *WebSocketCall) *status.Status {
	b := call.Binding
	for {
		var reply []byte
		err := cs.RecvMsg(&reply)
		if errors.Is(err, io.EOF) {
			return status.New(codes.OK, "")
		}
		if err != nil {
			return status.Convert(err)
		}
		chunk, err := t.RenderResponse(b, reply)
		if err != nil {
			return status.New(codes.Internal, err.Error())
		}
		if err := ws.Write(ctx, websocket.MessageText, wrapResult(chunk)); err != nil {
			return status.New(codes.Canceled, "the WebSocket client went away")
		}
		call.active()
	}
}

// pump reads the client's frames and sends each as a request message, until the client ends
// its stream (an empty text frame: a half-close, after which responses keep coming), closes
// the connection, or breaks the protocol. A method that takes one request message (server
// streaming) takes it from the first frame when its binding has a body, else from the path and
// query at once.
func (t *Transcoder) pump(ctx context.Context, ws *websocket.Conn, cs grpc.ClientStream, call *WebSocketCall, clientDone func()) clientEnd {
	b := call.Binding
	single := !b.Method.IsStreamingClient()
	halfClosed := false
	if single && b.Body == "" {
		if e, ok := t.send(cs, call, nil); !ok {
			return e
		}
		halfClosed = true
		clientDone()
	}
	for {
		typ, data, err := ws.Read(ctx)
		call.active()
		if err != nil {
			// The client closed, the connection was lost, or a frame was over the limit (the
			// library closed with 1009 itself).
			return clientEnd{gone: true}
		}
		switch {
		case typ != websocket.MessageText:
			return clientEnd{code: websocket.StatusUnsupportedData,
				reason: "binary frames are not accepted: send one JSON request message per text frame"}
		case halfClosed:
			return clientEnd{code: websocket.StatusPolicyViolation,
				reason: fmt.Sprintf("the client stream of %s has ended: no more messages are taken", b.Method.Name())}
		case len(bytes.TrimSpace(data)) == 0 && !single:
			halfClosed = true
			_ = cs.CloseSend()
			clientDone()
			continue
		}
		if e, ok := t.send(cs, call, data); !ok {
			return e
		}
		if single {
			halfClosed = true
			clientDone()
		}
	}
}

// send builds one request message from the call's path variables and query parameters and
// frame (the binding's body) and sends it. A frame that does not decode ends the client side
// with 1007; a send the server refused is not an error here: the call's status says why.
func (t *Transcoder) send(cs grpc.ClientStream, call *WebSocketCall, frame []byte) (clientEnd, bool) {
	msg, err := t.buildMessage(call.Binding, call.vars, call.params, frame, "application/json")
	if err != nil {
		reason := err.Error()
		var re *RequestError
		if errors.As(err, &re) {
			reason = re.Message
		}
		return clientEnd{code: websocket.StatusInvalidFramePayloadData, reason: "invalid request message: " + reason}, false
	}
	_ = cs.SendMsg(msg)
	return clientEnd{}, true
}

// active reports activity on the connection.
func (c *WebSocketCall) active() {
	if c.OnActivity != nil {
		c.OnActivity()
	}
}

// closeReason cuts a reason to what a close frame carries, at a UTF-8 boundary.
func closeReason(s string) string {
	if len(s) <= maxCloseReason {
		return s
	}
	s = s[:maxCloseReason]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
