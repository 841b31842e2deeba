package hessianwire

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	hessian "github.com/apache/dubbo-go-hessian2"
)

// decoded is what dubbo-go-hessian2's Decoder makes of b.
func decoded(b []byte) (any, error) { return hessian.NewDecoder(b).Decode() }

// checkRead holds ReadScalar to the Decoder wherever it answers, and checks the length it
// reports (the Decoder must read the same value from b[:n]).
func checkRead(t testing.TB, b []byte) {
	t.Helper()
	v, n, ok := ReadScalar(b)
	if !ok {
		return
	}
	want, err := decoded(b[:n])
	if err != nil {
		t.Fatalf("% x: ReadScalar read %#v (%d bytes), the Decoder fails: %v", b, v, n, err)
	}
	if !reflect.DeepEqual(v, want) && !(isNaN(v) && isNaN(want)) {
		t.Fatalf("% x: ReadScalar read %#v (%d bytes), the Decoder %#v", b, v, n, want)
	}
}

func isNaN(v any) bool { f, ok := v.(float64); return ok && math.IsNaN(f) }

func TestReadScalarAsDecoder(t *testing.T) {
	values := []any{nil, true, false, "", "slept 0ms", strings.Repeat("a", 31), strings.Repeat("b", 32), strings.Repeat("c", 1024),
		strings.Repeat("d", 4096), "é", 0.0, 1.0, -128.0, 127.0, 32767.0, -32768.0, 0.5, math.Inf(-1), float32(1.5), float32(0.001)}
	for _, n := range edges {
		values = append(values, n, int32(n), float64(n))
	}
	read := 0
	for _, v := range values {
		b := want(t, v)
		checkRead(t, b)
		if _, n, ok := ReadScalar(b); ok {
			read++
			if n != len(b) {
				t.Errorf("%#v: read %d of its %d bytes", v, n, len(b))
			}
		}
		for cut := 1; cut < len(b); cut++ { // truncated values are refused or read as the Decoder reads them
			checkRead(t, b[:cut])
		}
	}
	if read < len(values)-3 { // "é" and the chunked string go to the Decoder, so may the 32-bit float
		t.Errorf("ReadScalar read only %d of %d values", read, len(values))
	}
}

func TestReadStringMapAsDecoder(t *testing.T) {
	for _, m := range []map[string]any{{}, {"path": "a.B", "timeout": "1000"}, {"counted": true, "n": int32(7), "l": int64(1) << 40, "gone": nil}} {
		b := want(t, m)
		got, n, ok := ReadStringMap(b, nil)
		if !ok || n != len(b) {
			t.Fatalf("%v: ok %v, %d of %d bytes", m, ok, n, len(b))
		}
		wantMap := map[string]string{}
		for k, v := range m {
			if v != nil {
				wantMap[k] = fmt.Sprint(v)
			}
		}
		if !reflect.DeepEqual(got, wantMap) {
			t.Errorf("read %v, want %v", got, wantMap)
		}
	}
	interned, _, ok := ReadStringMap([]byte("H\x04path\x01a\x01k\x04pathZ"), func(text []byte) (string, bool) {
		return "interned:" + string(text), string(text) == "path"
	})
	if !ok || !reflect.DeepEqual(interned, map[string]string{"interned:path": "a", "k": "interned:path"}) {
		t.Errorf("interned: %v, %v", interned, ok)
	}
	// Repeated keys: the Decoder keeps the last value (null included).
	b := []byte("H\x01k\x01a\x01k\x01b\x01j\x01c\x01jNZ")
	got, _, ok := ReadStringMap(b, nil)
	if !ok || !reflect.DeepEqual(got, map[string]string{"k": "b"}) {
		t.Errorf("repeated keys read as %v, %v", got, ok)
	}
	for _, other := range []any{map[string]any{"d": 1.5}, map[int32]string{1: "x"}, map[string]any{"é": "x"}, []string{"a"}} {
		if _, _, ok := ReadStringMap(want(t, other), nil); ok {
			t.Errorf("%#v was read, not left to the Decoder", other)
		}
	}
}

// FuzzReadScalar: wherever ReadScalar answers, the Decoder reads the same value.
func FuzzReadScalar(f *testing.F) {
	for _, v := range []any{nil, true, int32(-70000), int64(1) << 40, 2.5, "abc", strings.Repeat("x", 40)} {
		f.Add(want(f, v))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkRead(t, b) })
}

// FuzzReadStringMap: ReadStringMap never panics, and what it reads is the Decoder's map.
func FuzzReadStringMap(f *testing.F) {
	f.Add(want(f, map[string]string{"path": "a.B", "k": "v"}))
	f.Add([]byte("H\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, ok := ReadStringMap(b, func(text []byte) (string, bool) { return "path", string(text) == "path" })
		if !ok {
			return
		}
		v, err := decoded(b[:n])
		dm, isMap := v.(map[any]any)
		if err != nil || !isMap {
			t.Fatalf("% x: read %v, the Decoder %#v (%v)", b, m, v, err)
		}
		for k, val := range dm {
			if val == nil {
				if _, ok := m[k.(string)]; ok {
					t.Fatalf("% x: null value of %q kept", b, k)
				}
				continue
			}
			if m[k.(string)] != fmt.Sprint(val) {
				t.Fatalf("% x: %q read as %q, the Decoder %#v", b, k, m[k.(string)], val)
			}
		}
	})
}
