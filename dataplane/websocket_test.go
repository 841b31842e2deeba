package dataplane_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// dialChat opens a WebSocket to the gateway with coder/websocket's client.
func dialChat(t *testing.T, ctx context.Context, s *chatStack, target string) *websocket.Conn {
	t.Helper()
	ws, resp, err := websocket.Dial(ctx, s.url("ws", target), nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", target, err, status)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws
}

// send writes one text frame.
func send(t *testing.T, ctx context.Context, ws *websocket.Conn, frame string) {
	t.Helper()
	if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		t.Fatalf("send %q: %v", frame, err)
	}
}

// receive reads one text frame and checks it is JSON equal to want.
func receive(t *testing.T, ctx context.Context, ws *websocket.Conn, want string) {
	t.Helper()
	typ, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("read, want %s: %v", want, err)
	}
	if typ != websocket.MessageText || !sameJSON(string(data), want) {
		t.Fatalf("frame %v %s, want text %s", typ, data, want)
	}
}

// closed reads until the gateway closes and returns its close frame.
func closed(t *testing.T, ctx context.Context, ws *websocket.Conn) websocket.CloseError {
	t.Helper()
	for {
		_, data, err := ws.Read(ctx)
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return ce
		}
		if err != nil {
			t.Fatalf("want a close frame, the connection ended with %v", err)
		}
		t.Logf("frame before the close: %s", data)
	}
}

// TestWebSocketStreaming runs client-streaming, bidirectional and server-streaming calls of a
// real grpc-go server over WebSocket through the embedded gateway: one JSON request message per
// text frame (on top of the path variables), an empty text frame ending the client stream,
// {"result": …} frames back, and the gRPC status as the close (1000 for OK, 4000+code with the
// status message as reason, after an {"error": …} frame).
func TestWebSocketStreaming(t *testing.T) {
	s := startChatStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()

	t.Run("client streaming", func(t *testing.T) {
		ws := dialChat(t, ctx, s, "/v1/rooms/r1:collect")
		send(t, ctx, ws, `{"text":"a"}`)
		send(t, ctx, ws, `{"text":"b","seq":2}`)
		send(t, ctx, ws, "") // end of the client stream
		receive(t, ctx, ws, `{"result":{"count":2,"joined":"a+b"}}`)
		if ce := closed(t, ctx, ws); ce.Code != websocket.StatusNormalClosure {
			t.Errorf("close %v, want 1000", ce)
		}
	})
	t.Run("bidirectional: each answer before the next message is sent", func(t *testing.T) {
		ws := dialChat(t, ctx, s, "/v1/rooms/r2:talk")
		send(t, ctx, ws, `{"text":"hi"}`)
		receive(t, ctx, ws, `{"result":{"room":"r2","text":"HI","seq":1}}`)
		send(t, ctx, ws, `{"text":"there","room":"other"}`) // the body wins over the path, as in Envoy
		receive(t, ctx, ws, `{"result":{"room":"other","text":"THERE","seq":2}}`)
		send(t, ctx, ws, "")
		if ce := closed(t, ctx, ws); ce.Code != websocket.StatusNormalClosure {
			t.Errorf("close %v, want 1000", ce)
		}
	})
	t.Run("server streaming on a GET route", func(t *testing.T) {
		ws := dialChat(t, ctx, s, "/v1/rooms/r3/notes?count=2")
		receive(t, ctx, ws, `{"result":{"room":"r3","text":"note 1","seq":1}}`)
		receive(t, ctx, ws, `{"result":{"room":"r3","text":"note 2","seq":2}}`)
		if ce := closed(t, ctx, ws); ce.Code != websocket.StatusNormalClosure {
			t.Errorf("close %v, want 1000", ce)
		}
	})
	t.Run("gRPC status: an error frame, then 4000+code with the message", func(t *testing.T) {
		ws := dialChat(t, ctx, s, "/v1/rooms/r4:collect")
		send(t, ctx, ws, `{"text":"fail"}`)
		receive(t, ctx, ws, `{"error":{"code":3,"message":"no fail notes","details":[]}}`)
		if ce := closed(t, ctx, ws); ce.Code != 4003 || ce.Reason != "no fail notes" {
			t.Errorf("close %v, want 4003 \"no fail notes\"", ce)
		}
	})
	t.Run("server streaming failing mid-stream", func(t *testing.T) {
		ws := dialChat(t, ctx, s, "/v1/rooms/r5/notes?count=3&failAfter=1")
		receive(t, ctx, ws, `{"result":{"room":"r5","text":"note 1","seq":1}}`)
		receive(t, ctx, ws, `{"error":{"code":10,"message":"room r5 closed after 1 notes","details":[]}}`)
		if ce := closed(t, ctx, ws); ce.Code != 4010 {
			t.Errorf("close %v, want 4010 (ABORTED)", ce)
		}
	})
}

// TestWebSocketGarbage sends what is not a request message: each gets a close frame with a code
// and a reason that says what was wrong (RFC 6455 §7.4.1), and the gateway goes on serving.
func TestWebSocketGarbage(t *testing.T) {
	s := startChatStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()
	cases := []struct {
		name   string
		typ    websocket.MessageType
		frame  []byte
		code   websocket.StatusCode
		reason string
	}{
		{"invalid JSON", websocket.MessageText, []byte(`{"text":`), websocket.StatusInvalidFramePayloadData, "invalid request message"},
		{"unknown field", websocket.MessageText, []byte(`{"nope":1}`), websocket.StatusInvalidFramePayloadData, "nope"},
		{"wrong type", websocket.MessageText, []byte(`{"seq":"x"}`), websocket.StatusInvalidFramePayloadData, "seq"},
		{"binary frame", websocket.MessageBinary, []byte{0, 1, 2}, websocket.StatusUnsupportedData, "binary frames are not accepted"},
		{"frame over the size limit (1 MiB)", websocket.MessageText, []byte(`{"text":"` + strings.Repeat("x", 1<<20) + `"}`),
			websocket.StatusMessageTooBig, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ws := dialChat(t, ctx, s, "/v1/rooms/g:talk")
			ws.SetReadLimit(2 << 20)
			if err := ws.Write(ctx, tc.typ, tc.frame); err != nil {
				t.Fatal(err)
			}
			ce := closed(t, ctx, ws)
			if ce.Code != tc.code || !strings.Contains(ce.Reason, tc.reason) || len(ce.Reason) > 123 {
				t.Errorf("close %d %q, want %d with a reason containing %q", ce.Code, ce.Reason, tc.code, tc.reason)
			}
		})
	}
	t.Run("a message after the end of the client stream", func(t *testing.T) {
		ws := dialChat(t, ctx, s, "/v1/rooms/g:collect")
		send(t, ctx, ws, "")
		send(t, ctx, ws, `{"text":"late"}`)
		if ce := closed(t, ctx, ws); ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "has ended") {
			t.Errorf("close %v, want 1008 saying the stream has ended", ce)
		}
	})
	t.Run("an upgrade on a route without upgrade_configs is refused 403", func(t *testing.T) {
		_, resp, err := websocket.Dial(ctx, s.url("ws", "/v1/rooms/r/last"), nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("dial a unary route: %v, want HTTP 403", err)
		}
		defer resp.Body.Close()
		var answer struct {
			Error struct{ Status string } `json:"error"`
		}
		body, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(body, &answer); err != nil || answer.Error.Status != "upgrade_failed" {
			t.Errorf("body %s, want status upgrade_failed", body)
		}
	})
	resp, err := s.get("/v1/rooms/after/last", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the garbage the gateway answers %d, want 200", resp.StatusCode)
	}
}

// TestWebSocketRouteTimeout: the route timeout runs from the end of the client stream, as
// Envoy's runs from the end of the downstream request: a conversation outlives it while the
// client talks, and a stream that goes on after the client's last message is cut by it
// (DEADLINE_EXCEEDED, close 4004). The pauses are many times the timeout, so a slow machine only
// widens the margins.
func TestWebSocketRouteTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	s := startChatStackWith(t, timeout)
	ctx, cancel := context.WithTimeout(context.Background(), giveUp)
	defer cancel()

	ws := dialChat(t, ctx, s, "/v1/rooms/t:talk")
	send(t, ctx, ws, `{"text":"a"}`)
	receive(t, ctx, ws, `{"result":{"room":"t","text":"A","seq":1}}`)
	time.Sleep(3 * timeout)
	send(t, ctx, ws, `{"text":"b"}`)
	receive(t, ctx, ws, `{"result":{"room":"t","text":"B","seq":2}}`)
	send(t, ctx, ws, "")
	if ce := closed(t, ctx, ws); ce.Code != websocket.StatusNormalClosure {
		t.Errorf("a conversation longer than the route timeout: close %v, want 1000", ce)
	}

	slow := dialChat(t, ctx, s, "/v1/rooms/t/notes?count=10&pauseMs=300")
	if ce := closed(t, ctx, slow); ce.Code != 4000+4 || !strings.Contains(ce.Reason, "route timeout") {
		t.Errorf("a stream going on after the request: close %v, want 4004 naming the route timeout", ce)
	}
}
