package dubborpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
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
	frame, _, err := encodeRequest(9, Request{Interface: "a.B", Version: "1", Group: "g", Method: "m",
		ParamTypes: []string{"java.lang.String", "int"}, Args: []any{"x", int32(1)}}, 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHeader(frame, 1<<20)
	if err != nil || !h.request || !h.twoWay || h.event || h.id != 9 || h.bodyLength != len(frame)-HeaderLength {
		t.Fatalf("header = %+v, %v", h, err)
	}
	if _, _, err := encodeRequest(1, Request{Method: "m", ParamTypes: []string{"int"}}, 0); err == nil {
		t.Error("more parameter types than arguments was accepted")
	}
}

// TestGenericArgumentsFraming: $invoke's Object[] is framed as hessian2 frames an Object[], and
// a RawArg inside it is written as it is.
func TestGenericArgumentsFraming(t *testing.T) {
	plain := GenericRequest("a.B", "1", "", "m", []string{"java.lang.String", "int"}, []any{"x", int32(1)}, nil)
	raw := GenericRequest("a.B", "1", "", "m", []string{"java.lang.String", "int"}, []any{RawArg{0x01, 'x'}, RawArg{0x91}}, nil)
	byLibrary := plain
	byLibrary.Args = []any{"m", []string{"java.lang.String", "int"}, []hessian.Object{"x", int32(1)}}
	want, _, err := encodeRequest(1, byLibrary, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The packets are equal up to the attachments (a map, whose order varies).
	objects := []byte("V\a[object\x92\x01x\x91")
	end := bytes.Index(want, objects)
	if end < 0 {
		t.Fatalf("hessian2 frames Object[] otherwise than expected: %q", want)
	}
	want = want[:end+len(objects)]
	for name, req := range map[string]Request{"plain": plain, "raw": raw} {
		got, _, err := encodeRequest(1, req, 0)
		if err != nil || !bytes.HasPrefix(got, want) {
			t.Errorf("%s $invoke request:\n got %q %v\nwant %q...", name, got, err, want)
		}
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

// TestGenericExceptionIsUnwrapped: a Java provider answers a generic call that threw with the
// exception wrapped in GenericException, as its GenericFilter builds it; the RemoteError names
// the wrapped class and message. (No JVM runs here: the body is written as Java's Hessian2
// writes such an object, with the Throwable fields that make hessian2 decode it as one.)
func TestGenericExceptionIsUnwrapped(t *testing.T) {
	const cause = "com.foo.BizException: two\nlines"
	for _, c := range []struct{ class, detail, wantClass, wantMessage string }{
		{"org.apache.dubbo.rpc.service.GenericException", cause + "\n" + cause + "\n\tat com.foo.Svc.m(Svc.java:7)\n",
			"com.foo.BizException", "two\nlines"},
		{"com.alibaba.dubbo.rpc.service.GenericException", "com.foo.NoMessage\ncom.foo.NoMessage\n\tat x\n",
			"com.foo.NoMessage", ""},
		{"org.apache.dubbo.rpc.service.GenericException", "made by hand", // GenericException(class, message)
			"org.apache.dubbo.rpc.service.GenericException", "made by hand"},
	} {
		enc := hessian.NewEncoder()
		_ = enc.Encode(int32(responseWithException))
		fields := []string{"detailMessage", "cause", "stackTrace", "suppressedExceptions", "exceptionClass", "exceptionMessage"}
		enc.Append([]byte{'C'})
		_ = enc.Encode(c.class)
		_ = enc.Encode(int32(len(fields)))
		for _, f := range fields {
			_ = enc.Encode(f)
		}
		enc.Append([]byte{0x60}) // the instance of class definition 0
		for _, v := range []any{c.detail, nil, nil, nil, c.wantClass, c.wantMessage} {
			_ = enc.Encode(v)
		}
		_, err := decodeResponse(StatusOK, enc.Buffer())
		var re *RemoteError
		if !errors.As(err, &re) || re.Class != c.wantClass || re.Message != c.wantMessage {
			t.Errorf("%s %q: %#v, want class %q message %q", c.class, c.detail, err, c.wantClass, c.wantMessage)
		}
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

// TestSilentPeerIsNotUsed: a peer that accepts connections but never answers fails the
// connection's handshake heartbeat, so no call is written to it: the call fails as unavailable
// and not sent (retryable elsewhere), within the dial timeout.
func TestSilentPeerIsNotUsed(t *testing.T) {
	addr := silentPeer(t)
	c := New(Options{DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.Invoke(ctx, addr, sayHello("anyone"))
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrNotSent) || !strings.Contains(err.Error(), "did not answer a heartbeat") {
		t.Fatalf("err = %v, want ErrUnavailable and ErrNotSent from the unanswered handshake", err)
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
	b := (&Options{ReconnectBackoff: 100 * time.Millisecond, MaxReconnectBackoff: 2 * time.Second}).redialBackoff()
	for n := 1; n <= 10; n++ {
		d := b.Backoff(n - 1)
		if d < 80*time.Millisecond || d > 2400*time.Millisecond {
			t.Errorf("backoff(%d) = %v out of bounds", n, d)
		}
		if n <= 4 && d < prev/2 {
			t.Errorf("backoff(%d) = %v does not grow (previous %v)", n, d, prev)
		}
		prev = d
	}
}
