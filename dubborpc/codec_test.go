package dubborpc

import (
	"bytes"
	"maps"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"

	"github.com/rpcbridge/rpcbridge/dubborpc/hessianwire"
)

// TestAppendRequestAsEncoder holds the pooled framing (appendRequest) to the packet a hessian2
// Encoder writes (encodeRequestWithEncoder): the same bytes up to the attachments, and the
// same attachments (a map, whose entries the Encoder writes in random order).
func TestAppendRequestAsEncoder(t *testing.T) {
	raw := RawArg(hessianwire.AppendString(nil, "raw"))
	for name, c := range map[string]struct {
		req     Request
		timeout time.Duration
	}{
		"plain": {Request{Interface: "com.foo.Svc", Method: "m", ParamTypes: []string{"java.lang.String", "int", "long", "boolean", "double"},
			Args: []any{"héllo \U0001F600", int32(-70000), int64(1) << 40, true, 2.5}}, time.Second},
		"generic": {GenericRequest("com.foo.Svc", "1.0.0", "g", "slow", []string{"int", "java.lang.String"},
			[]any{int32(0), raw}, map[string]string{"traceparent": "00-1-2-01", "version": "9", "timeout": "1"}), 1500 * time.Millisecond},
		"no args, no timeout": {Request{Interface: "com.foo.Svc", Method: "m", Attachments: map[string]string{"timeout": "7", "group": "x"}}, 0},
		"empty lists":         {GenericRequest("com.foo.Svc", "", "", "m", nil, nil, nil), 10 * time.Millisecond},
		"null and long strings": {Request{Interface: strings.Repeat("i", 5000), Method: "m", ParamTypes: []string{"java.lang.String", "java.lang.String[]"},
			Args: []any{nil, []string{"a", strings.Repeat("b", 9000)}}}, time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			desc, err := Descriptor(c.req.ParamTypes)
			if err != nil {
				t.Fatal(err)
			}
			if needsEncoder(genericArgs(c.req.Args)) {
				t.Fatal("the case would not take the pooled framing")
			}
			got := appendRequest(nil, 42, c.req, desc, c.timeout)
			want, err := encodeRequestWithEncoder(42, c.req, desc, c.timeout)
			if err != nil {
				t.Fatal(err)
			}
			att := wantAttachments(c.req, c.timeout)
			n := len(want) - len(hessianwire.AppendStringMap(nil, att))
			if len(got) != len(want) || !bytes.Equal(got[:n], want[:n]) {
				t.Fatalf("packets differ before the attachments:\n got % x\nwant % x", got[:min(n, len(got))], want[:n])
			}
			decoded, err := hessian.NewDecoder(got[n:]).Decode()
			if err != nil {
				t.Fatal(err)
			}
			if m := stringMap(decoded); !reflect.DeepEqual(m, att) {
				t.Errorf("attachments %v, want %v", m, att)
			}
		})
	}
}

// wantAttachments are the attachments encodeRequestWithEncoder sends.
func wantAttachments(req Request, timeout time.Duration) map[string]string {
	att := maps.Clone(req.Attachments)
	if att == nil {
		att = map[string]string{}
	}
	att["path"], att["interface"], att["dubbo"] = req.Interface, req.Interface, dubboVersion
	if req.Version != "" {
		att["version"] = req.Version
	}
	if req.Group != "" {
		att["group"] = req.Group
	}
	if timeout > 0 {
		att["timeout"] = strconv.FormatInt(max(timeout.Milliseconds(), 1), 10)
	}
	return att
}

// TestEncodeRequestFallsBackToEncoder: arguments hessianwire does not write (maps, POJOs)
// make the whole packet go through the Encoder.
func TestEncodeRequestFallsBackToEncoder(t *testing.T) {
	req := GenericRequest("com.foo.Svc", "", "", "m", []string{"java.util.Map"}, []any{map[string]any{"a": int32(1)}}, nil)
	frame, buf, err := encodeRequest(1, req, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if buf != nil {
		t.Error("a map argument took the pooled framing")
	}
	dec := hessian.NewDecoder(frame[HeaderLength:])
	for range 5 {
		if _, err := dec.Decode(); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := dec.Decode(); err != nil {
			t.Fatal(err)
		}
	}
}

// responseBody encodes a response body of values with the hessian2 Encoder.
func responseBody(t testing.TB, values ...any) []byte {
	enc := hessian.NewEncoder()
	for _, v := range values {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return enc.Buffer()
}

func checkScalarResponse(t testing.TB, body []byte) bool {
	t.Helper()
	got, ok := readScalarResponse(body)
	if !ok {
		return false
	}
	want, err := decodeResponseWithDecoder(StatusOK, body)
	if f, ok := got.Value.(float64); ok && math.IsNaN(f) { // NaN != NaN: compare the bits
		if w, ok := want.Value.(float64); ok && math.Float64bits(w) == math.Float64bits(f) {
			got.Value, want.Value = nil, nil
		}
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("% x: read %#v, the Decoder %#v (%v)", body, got, want, err)
	}
	return true
}

// TestScalarResponseAsDecoder holds the Decoder-free reading of scalar responses to the
// Decoder's, and checks which bodies it leaves to the Decoder.
func TestScalarResponseAsDecoder(t *testing.T) {
	att := map[string]any{"path": "a.B", "dubbo-go-graceful-shutdown-provider-counted": true, "n": int32(3)}
	for _, c := range []struct {
		body []byte
		read bool
	}{
		{responseBody(t, int32(responseValueWithAttachments), "slept 0ms", att, nil), true},
		{responseBody(t, int32(responseValue), int64(7)), true},
		{responseBody(t, int32(responseNullValueWithAttachments), att), true},
		{responseBody(t, int32(responseNullValue)), true},
		{responseBody(t, int32(responseValueWithAttachments), 2.5, map[string]any{}), true},
		{responseBody(t, int32(responseValue), "héllo"), false},
		{responseBody(t, int32(responseValue), map[string]any{"a": "b"}), false},
		{responseBody(t, int32(responseValueWithAttachments), "x", map[string]any{"d": 1.5}), false},
		{responseBody(t, int32(responseWithException), "boom"), false},
		{responseBody(t, int32(responseValueWithAttachments), "x"), false}, // no attachments
	} {
		if got := checkScalarResponse(t, c.body); got != c.read {
			t.Errorf("% x: read without the Decoder: %v, want %v", c.body, got, c.read)
		}
	}
}

// FuzzScalarResponse: wherever readScalarResponse answers, the Decoder answers the same.
func FuzzScalarResponse(f *testing.F) {
	f.Add(responseBody(f, int32(responseValueWithAttachments), "slept 0ms", map[string]any{"k": "v", "b": true}))
	f.Add(responseBody(f, int32(responseNullValue)))
	f.Fuzz(func(t *testing.T, body []byte) { checkScalarResponse(t, body) })
}
