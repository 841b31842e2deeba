package triple

import (
	"context"
	"errors"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// fields decodes a wrapper message into its fields by number, in order.
func fields(t *testing.T, b []byte) map[protowire.Number][][]byte {
	t.Helper()
	out := map[protowire.Number][][]byte{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType {
			t.Fatalf("bad tag %d type %d", n, typ)
		}
		b = b[n:]
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			t.Fatalf("bad field %d", num)
		}
		b = b[n:]
		out[num] = append(out[num], v)
	}
	return out
}

func TestRequestBodyOfGenericCall(t *testing.T) {
	req := dubborpc.GenericRequest("org.foo.Greeter", "1.0.0", "", "greet",
		[]string{"java.lang.String", "int", "java.util.List<org.foo.User>", "long[]"}, []any{"Ada", int32(2), []any{}, []int64{1}}, nil)
	body, err := RequestBody(req)
	if err != nil {
		t.Fatal(err)
	}
	f := fields(t, body)
	if got := string(f[fieldSerializeType][0]); got != "hessian2" {
		t.Errorf("serializeType %q", got)
	}
	var types []string
	for _, v := range f[fieldArgTypes] {
		types = append(types, string(v))
	}
	// $invoke(String, String[], Object[]) as Class.getName() spells its parameter types.
	if want := []string{"java.lang.String", "[Ljava.lang.String;", "[Ljava.lang.Object;"}; !slices.Equal(types, want) {
		t.Errorf("argTypes %q, want %q", types, want)
	}
	args := f[fieldArgs]
	if len(args) != 3 {
		t.Fatalf("%d args, want 3", len(args))
	}
	// Each argument is one hessian2 value of its own.
	for i, want := range []any{"greet"} {
		if v, err := dubborpc.DecodeValue(args[i]); err != nil || v != want {
			t.Errorf("arg %d = %v %v, want %v", i, v, err, want)
		}
	}
	if v, err := dubborpc.DecodeValue(args[1]); err != nil || !slices.Equal(v.([]string), []string{"java.lang.String", "int", "java.util.List<org.foo.User>", "long[]"}) {
		t.Errorf("parameter types argument = %#v %v", v, err)
	}
}

func TestClassName(t *testing.T) {
	for in, want := range map[string]string{
		"int": "int", "java.lang.String": "java.lang.String", "java.util.Map<java.lang.String,org.foo.User>": "java.util.Map",
		"int[]": "[I", "java.lang.String[]": "[Ljava.lang.String;", "org.foo.User[][]": "[[Lorg.foo.User;",
	} {
		if got, err := className(in); err != nil || got != want {
			t.Errorf("className(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := className("int<"); err == nil {
		t.Error("className of a malformed type did not fail")
	}
}

func TestParseResponseWrapper(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 7, protowire.VarintType) // unknown field, skipped
	b = protowire.AppendVarint(b, 3)
	b = protowire.AppendTag(b, fieldSerializeType, protowire.BytesType)
	b = protowire.AppendString(b, "hessian2")
	b = protowire.AppendTag(b, fieldData, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte{0x05, 'h', 'e', 'l', 'l', 'o'}) // hessian2 "hello"
	b = protowire.AppendTag(b, fieldType, protowire.BytesType)
	b = protowire.AppendString(b, "java.lang.String")
	resp, err := decodeReply(b, nil)
	if err != nil || resp.Value != "hello" {
		t.Fatalf("decodeReply = %#v %v", resp, err)
	}
	if _, err := decodeReply(b[:len(b)-3], nil); err == nil {
		t.Error("a truncated wrapper decoded")
	}
	other := protowire.AppendString(protowire.AppendTag(nil, fieldSerializeType, protowire.BytesType), "fastjson2")
	if _, err := decodeReply(other, nil); !errors.Is(err, errNotWrapper) {
		t.Errorf("another serialization: %v, want errNotWrapper", err)
	}
	// A void method answers an empty wrapper: a null result.
	if resp, err := decodeReply(protowire.AppendString(protowire.AppendTag(nil, fieldSerializeType, protowire.BytesType), "hessian2"), nil); err != nil || resp.Value != nil {
		t.Errorf("void answer = %#v %v", resp, err)
	}
}

func TestCallError(t *testing.T) {
	var remote *dubborpc.RemoteError
	err := callError(status.Error(codes.Unknown, "org.foo.NoCreditException: balance too low"))
	if !errors.As(err, &remote) || remote.Class != "org.foo.NoCreditException" || remote.Message != "balance too low" {
		t.Errorf("Throwable text: %#v", err)
	}
	err = callError(status.Error(codes.Unknown, "something broke: badly"))
	if !errors.As(err, &remote) || remote.Class != "java.lang.Throwable" || remote.Message != "something broke: badly" {
		t.Errorf("plain text: %#v", err)
	}
	for c, want := range map[codes.Code]dubborpc.Status{
		codes.DeadlineExceeded: dubborpc.StatusServerTimeout, codes.Unimplemented: dubborpc.StatusServiceNotFound,
		codes.NotFound: dubborpc.StatusServiceNotFound, codes.ResourceExhausted: dubborpc.StatusServerThreadpoolExhausted,
		codes.InvalidArgument: dubborpc.StatusBadRequest, codes.Internal: dubborpc.StatusServiceError,
	} {
		if err := callError(status.Error(c, "x")); !errors.Is(err, &dubborpc.StatusError{Status: want}) {
			t.Errorf("%s: %v, want status %s", c, err, want)
		}
	}
	if err := callError(status.Error(codes.Unavailable, "connection refused")); !errors.Is(err, dubborpc.ErrUnavailable) {
		t.Errorf("unavailable: %v", err)
	}
	if err := callError(status.Error(codes.Canceled, "gone")); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

func TestRequestMetadata(t *testing.T) {
	req := dubborpc.GenericRequest("org.foo.Greeter", "1.0.0", "blue", "greet", nil, nil,
		map[string]string{"X-Trace": "t", "Grpc-Timeout": "1S", "Content-Type": "text/plain", "tri-service-version": "9"})
	md := requestMetadata(req)
	if got := md.Get("x-trace"); !slices.Equal(got, []string{"t"}) {
		t.Errorf("x-trace %q", got)
	}
	if got := md.Get(HeaderVersion); !slices.Equal(got, []string{"1.0.0"}) {
		t.Errorf("version %q", got)
	}
	if got := md.Get(HeaderGroup); !slices.Equal(got, []string{"blue"}) {
		t.Errorf("group %q", got)
	}
	if md.Get("grpc-timeout") != nil || md.Get("content-type") != nil {
		t.Errorf("reserved headers forwarded: %v", md)
	}
}

func TestPayloadLimitRefusedUnsent(t *testing.T) {
	req := dubborpc.GenericRequest("org.foo.Greeter", "", "", "greet", []string{"java.lang.String"}, []any{"a long enough argument"}, nil)
	req.PayloadLimit = 16
	// No connection: a refused call never reaches it.
	if _, err := Invoke(context.Background(), nil, req); !errors.Is(err, dubborpc.ErrPayloadTooLarge) {
		t.Fatalf("err = %v, want ErrPayloadTooLarge", err)
	}
}
