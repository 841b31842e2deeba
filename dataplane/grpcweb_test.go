package dataplane_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/chat"
)

// The gRPC-Web client of these tests builds and reads frames by hand, per
// https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md: no gRPC-Web client library
// exists for Go (improbable-eng's grpc-web is a server-side wrapper), so this is the protocol
// as a browser's grpc-web or Connect client speaks it.

// grpcWebReply is a decoded gRPC-Web response: its data frames and its status, from the trailer
// frame or, for a trailers-only response, from the headers.
type grpcWebReply struct {
	code     int
	header   http.Header
	messages [][]byte
	trailers http.Header
}

// status is the call's grpc-status and grpc-message.
func (r grpcWebReply) status() (string, string) {
	if s := r.trailers.Get("Grpc-Status"); s != "" {
		return s, r.trailers.Get("Grpc-Message")
	}
	return r.header.Get("Grpc-Status"), r.header.Get("Grpc-Message")
}

// grpcWebCall sends one request message to method as gRPC-Web (binary, or base64 with text).
func grpcWebCall(t *testing.T, s *chatStack, method string, req []byte, text bool, header http.Header) grpcWebReply {
	t.Helper()
	frame := make([]byte, 5, 5+len(req))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(req)))
	frame = append(frame, req...)
	h := http.Header{"X-Grpc-Web": {"1"}, "Content-Type": {"application/grpc-web+proto"}}
	body := frame
	if text {
		h.Set("Content-Type", "application/grpc-web-text")
		h.Set("Accept", "application/grpc-web-text")
		body = []byte(base64.StdEncoding.EncodeToString(frame))
	}
	for k, v := range header {
		h[k] = v
	}
	resp, err := s.do(http.MethodPost, "/"+chat.Service+"/"+method, h, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if text && len(raw) > 0 {
		// Chunk by chunk, each padded: decode four characters at a time.
		var decoded []byte
		for i := 0; i+4 <= len(raw); i += 4 {
			var b [3]byte
			n, err := base64.StdEncoding.Decode(b[:], raw[i:i+4])
			if err != nil {
				t.Fatalf("response is not base64: %q", raw)
			}
			decoded = append(decoded, b[:n]...)
		}
		raw = decoded
	}
	out := grpcWebReply{code: resp.StatusCode, header: resp.Header}
	for len(raw) > 0 {
		if len(raw) < 5 || len(raw) < 5+int(binary.BigEndian.Uint32(raw[1:5])) {
			t.Fatalf("truncated gRPC-Web frame: %q", raw)
		}
		n := int(binary.BigEndian.Uint32(raw[1:5]))
		payload := raw[5 : 5+n]
		if raw[0]&0x80 != 0 {
			tp := textproto.NewReader(bufioReader(string(payload) + "\r\n"))
			mh, err := tp.ReadMIMEHeader()
			if err != nil {
				t.Fatalf("trailer frame %q: %v", payload, err)
			}
			out.trailers = http.Header(mh)
		} else {
			out.messages = append(out.messages, payload)
		}
		raw = raw[5+n:]
	}
	return out
}

// chatMessage builds a chat.v1 message from JSON, or decodes raw into JSON.
func chatMessage(t *testing.T, name string) protoreflect.MessageDescriptor {
	t.Helper()
	files, err := protodesc.NewFiles(chat.MustDescriptors(t))
	if err != nil {
		t.Fatal(err)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName("chat.v1." + name))
	if err != nil {
		t.Fatal(err)
	}
	return d.(protoreflect.MessageDescriptor)
}

func encodeJSON(t *testing.T, md protoreflect.MessageDescriptor, js string) []byte {
	t.Helper()
	msg := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(js), msg); err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeJSON(t *testing.T, md protoreflect.MessageDescriptor, raw []byte) string {
	t.Helper()
	msg := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(raw, msg); err != nil {
		t.Fatal(err)
	}
	b, err := protojson.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGRPCWeb calls a real grpc-go server through the embedded gateway as a browser's gRPC-Web
// client does: unary and server-streaming calls, binary and base64 (-text), a failing call, the
// CORS preflight of a route with a CORS policy, and a body that is not base64.
func TestGRPCWeb(t *testing.T) {
	s := startChatStack(t)
	topic, note := chatMessage(t, "Topic"), chatMessage(t, "Note")

	t.Run("unary", func(t *testing.T) {
		r := grpcWebCall(t, s, "Last", encodeJSON(t, topic, `{"room":"w"}`), false, nil)
		code, msg := r.status()
		if r.code != 200 || r.header.Get("Content-Type") != "application/grpc-web+proto" || code != "0" || len(r.messages) != 1 {
			t.Fatalf("got %d %q status %q %q, %d messages", r.code, r.header.Get("Content-Type"), code, msg, len(r.messages))
		}
		if got := decodeJSON(t, note, r.messages[0]); !sameJSON(got, `{"room":"w","text":"last of w"}`) {
			t.Errorf("message %s", got)
		}
		if r.trailers.Get("X-Served-By") != "chat" {
			t.Errorf("trailer frame %v, want the upstream's trailers", r.trailers)
		}
	})
	t.Run("server streaming, text", func(t *testing.T) {
		r := grpcWebCall(t, s, "Follow", encodeJSON(t, topic, `{"room":"w","count":3}`), true, nil)
		code, _ := r.status()
		if r.code != 200 || r.header.Get("Content-Type") != "application/grpc-web-text+proto" || code != "0" || len(r.messages) != 3 {
			t.Fatalf("got %d %q status %q, %d messages", r.code, r.header.Get("Content-Type"), code, len(r.messages))
		}
		for i, m := range r.messages {
			want := fmt.Sprintf(`{"room":"w","text":"note %d","seq":%d}`, i+1, i+1)
			if got := decodeJSON(t, note, m); !sameJSON(got, want) {
				t.Errorf("message %d: %s, want %s", i, got, want)
			}
		}
	})
	t.Run("a failing call", func(t *testing.T) {
		r := grpcWebCall(t, s, "Follow", encodeJSON(t, topic, `{"room":"gone","count":1}`), false, nil)
		if code, msg := r.status(); r.code != 200 || code != "5" || msg != "no room gone" || len(r.messages) != 0 {
			t.Errorf("got %d status %q %q, %d messages; want status 5", r.code, code, msg, len(r.messages))
		}
	})
	t.Run("a text body that is not base64 is refused 400", func(t *testing.T) {
		resp, err := s.do(http.MethodPost, "/"+chat.Service+"/Last",
			http.Header{"Content-Type": {"application/grpc-web-text"}}, strings.NewReader("!!!!"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "base64") {
			t.Errorf("got %d %s, want 400 naming base64", resp.StatusCode, body)
		}
	})
	t.Run("CORS", func(t *testing.T) {
		resp, err := s.do(http.MethodOptions, "/"+chat.Service+"/Last", http.Header{"Origin": {chatOrigin},
			"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type,x-grpc-web,x-user-agent"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != chatOrigin || !strings.Contains(allowed, "x-grpc-web") {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
		r := grpcWebCall(t, s, "Last", encodeJSON(t, topic, `{"room":"c"}`), false, http.Header{"Origin": {chatOrigin}})
		exposed := strings.ToLower(r.header.Get("Access-Control-Expose-Headers"))
		if code, _ := r.status(); code != "0" || r.header.Get("Access-Control-Allow-Origin") != chatOrigin || !strings.Contains(exposed, "grpc-status") {
			t.Errorf("actual request: status %q, headers %v", code, r.header)
		}
	})
}

// bufioReader reads s.
func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
