package dubborpc

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
)

func TestHeaderRoundTrip(t *testing.T) {
	in := header{request: true, twoWay: true, event: true, serialization: serializationHessian2,
		status: StatusServerTimeout, id: 1<<40 + 7, bodyLength: 1234}
	b := appendHeader(nil, in)
	if len(b) != HeaderLength || b[0] != 0xda || b[1] != 0xbb || b[2] != 0xe2 {
		t.Fatalf("header bytes = % x", b)
	}
	out, err := parseHeader(b, 1<<20)
	if err != nil || out != in {
		t.Fatalf("parseHeader = %+v, %v; want %+v", out, err, in)
	}
	if _, err := parseHeader(b, 1000); err == nil {
		t.Error("a body over the limit was accepted")
	}
	b[0] = 0xca
	if _, err := parseHeader(b, 1<<20); err == nil {
		t.Error("bad magic was accepted")
	}
}

func TestRequestEncoding(t *testing.T) {
	frame, err := encodeRequest(9, Request{Interface: "a.B", Version: "1", Group: "g", Method: "m",
		ParamTypes: []string{"java.lang.String", "int"}, Args: []any{"x", int32(1)}}, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(frame, 1<<20)
	if err != nil || !h.request || !h.twoWay || h.event || h.id != 9 || h.bodyLength != len(frame)-HeaderLength {
		t.Fatalf("header = %+v, %v", h, err)
	}
	if _, err := encodeRequest(1, Request{Method: "m", ParamTypes: []string{"int"}}, 0); err == nil {
		t.Error("more parameter types than arguments was accepted")
	}
}

func TestNullAndValueDecoding(t *testing.T) {
	body := func(values ...any) []byte {
		enc := hessian.NewEncoder()
		for _, v := range values {
			if err := enc.Encode(v); err != nil {
				t.Fatal(err)
			}
		}
		return enc.Buffer()
	}
	resp, err := decodeResponse(StatusOK, body(int32(responseNullValueWithAttachments), map[string]string{"k": "v"}))
	if err != nil || resp.Value != nil || resp.Attachments["k"] != "v" {
		t.Errorf("null with attachments = %+v, %v", resp, err)
	}
	resp, err = decodeResponse(StatusOK, body(int32(responseNullValue)))
	if err != nil || resp.Value != nil || resp.Attachments != nil {
		t.Errorf("null = %+v, %v", resp, err)
	}
	resp, err = decodeResponse(StatusOK, body(int32(responseValue), int64(7)))
	if err != nil || resp.Value != int64(7) {
		t.Errorf("value = %+v, %v", resp, err)
	}
	if _, err := decodeResponse(StatusOK, body(int32(9))); err == nil {
		t.Error("an unknown response kind was accepted")
	}
}

func TestStatusAndExceptionDecoding(t *testing.T) {
	_, err := decodeResponse(StatusServiceNotFound, nil)
	if !errors.Is(err, &StatusError{Status: StatusServiceNotFound}) {
		t.Errorf("err = %v, want SERVICE_NOT_FOUND", err)
	}
	re := remoteError(map[string]any{"_class": "com.foo.Oops", "detailMessage": "bad"})
	if re.Class != "com.foo.Oops" || re.Message != "bad" {
		t.Errorf("remote error from a map = %+v", re)
	}
}

// silentPeer accepts connections and reads whatever comes, never answering: a hung provider.
func silentPeer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() }()
		}
	}()
	return l.Addr().String()
}

func TestSilentConnectionIsClosed(t *testing.T) {
	addr := silentPeer(t)
	c := New(Options{HeartbeatInterval: 50 * time.Millisecond, HeartbeatTimeout: 200 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.Invoke(ctx, addr, sayHello("anyone"))
	if !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("err = %v, want ErrConnectionLost from heartbeat detection", err)
	}
}

func TestDeadlineWithoutAnswer(t *testing.T) {
	addr := silentPeer(t)
	c := New(Options{})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Invoke(ctx, addr, sayHello("anyone"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if n := c.Endpoint(addr).InFlight(); n != 0 {
		t.Errorf("%d calls still pending after their deadline", n)
	}
}

func TestClosedClient(t *testing.T) {
	c := New(Options{})
	_ = c.Close()
	if _, err := c.Invoke(context.Background(), "127.0.0.1:1", sayHello("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("err = %v, want ErrClosed", err)
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= 10; n++ {
		d := backoff(100*time.Millisecond, 2*time.Second, n)
		if d < 80*time.Millisecond || d > 2400*time.Millisecond {
			t.Errorf("backoff(%d) = %v out of bounds", n, d)
		}
		if n <= 4 && d < prev/2 {
			t.Errorf("backoff(%d) = %v does not grow (previous %v)", n, d, prev)
		}
		prev = d
	}
}
