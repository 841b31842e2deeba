package hessianwire

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	hessian "github.com/apache/dubbo-go-hessian2"
)

// want is what dubbo-go-hessian2's Encoder writes for v.
func want(t testing.TB, v any) []byte {
	t.Helper()
	enc := hessian.NewEncoder()
	if err := enc.Encode(v); err != nil {
		t.Fatalf("hessian2 cannot encode %v: %v", v, err)
	}
	return enc.Buffer()
}

func check(t testing.TB, v any, got []byte) {
	t.Helper()
	if w := want(t, v); !bytes.Equal(got, w) {
		t.Errorf("%T %.80v:\n got % x\nwant % x", v, v, got, w)
	}
}

// edges are the integers at either side of every boundary of the short forms.
var edges = []int64{0, 1, -1, 0x0f, 0x10, -0x08, -0x09, -0x10, -0x11, 0x2f, 0x30, 0x7ff, 0x800, -0x800, -0x801,
	0x3ffff, 0x40000, -0x40000, -0x40001, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1,
	math.MaxInt64, math.MinInt64, 127, 128, -128, -129, 0x7fff, 0x8000, -0x8000, -0x8001}

func TestIntegersAsHessian2(t *testing.T) {
	for _, n := range edges {
		check(t, n, AppendInt64(nil, n))
		check(t, int32(n), AppendInt32(nil, int32(n)))
	}
}

func TestDoublesAsHessian2(t *testing.T) {
	values := []float64{0, 1, -1, 0.5, 1.5e300, math.Inf(1), math.Inf(-1), math.NaN(), math.Copysign(0, -1),
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1e19, -1e19, 3.25, 12345.678}
	for _, n := range edges {
		values = append(values, float64(n))
	}
	for _, f := range values {
		check(t, f, AppendFloat64(nil, f))
	}
}

func TestStringsAsHessian2(t *testing.T) {
	values := []string{"", "a", "héllo ☃", "\U0001F600", "bad \xff byte", "\xed\xa0\x80",
		strings.Repeat("x", 31), strings.Repeat("x", 32), strings.Repeat("é", 1023), strings.Repeat("é", 1024),
		strings.Repeat("x", 4095), strings.Repeat("x", 4096), strings.Repeat("x", 4097), strings.Repeat("x", 20000),
		strings.Repeat("x", 4095) + "\U0001F600" + "tail", strings.Repeat("\U0001F600", 2049),
		strings.Repeat("☃", 65535), strings.Repeat("\U0001F600", 70000)}
	for _, s := range values {
		check(t, s, AppendString(nil, s))
	}
}

func TestOthersAsHessian2(t *testing.T) {
	check(t, nil, AppendNull(nil))
	check(t, true, AppendBool(nil, true))
	check(t, false, AppendBool(nil, false))
	for _, n := range []int{0, 1, 15, 16, 1023, 1024, 4096, 4097, 10000} {
		v := bytes.Repeat([]byte{7}, n)
		check(t, v, AppendBinary(nil, v))
	}
	if got := AppendBinary(nil, nil); !bytes.Equal(got, []byte{'N'}) {
		t.Errorf("nil byte slice: % x", got)
	}
	for _, d := range []time.Time{time.UnixMilli(1714979289123), time.UnixMilli(-1), time.Unix(0, 0), {}} {
		check(t, d, AppendDate(nil, d))
	}
	m := map[string]string{"path": "com.foo.Svc", "timeout": "3000"}
	got, err := hessian.NewDecoder(AppendStringMap(nil, m)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	if dm, ok := got.(map[any]any); !ok || len(dm) != 2 || dm["path"] != "com.foo.Svc" || dm["timeout"] != "3000" {
		t.Errorf("map decoded as %#v", got)
	}
	if one := AppendStringMap(nil, map[string]string{"k": "v"}); !bytes.Equal(one, want(t, map[string]string{"k": "v"})) {
		t.Errorf("one-entry map: % x", one)
	}
}

// FuzzString holds AppendString to dubbo-go-hessian2's bytes for any string.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "abc", "héllo", "\U0001F600", "\xff", strings.Repeat("ab\U0001F600", 1500)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { check(t, s, AppendString(nil, s)) })
}

// FuzzNumbers holds the integer and double forms to dubbo-go-hessian2's bytes.
func FuzzNumbers(f *testing.F) {
	for _, n := range edges {
		f.Add(n, float64(n))
	}
	f.Fuzz(func(t *testing.T, n int64, x float64) {
		check(t, n, AppendInt64(nil, n))
		check(t, int32(n), AppendInt32(nil, int32(n)))
		check(t, x, AppendFloat64(nil, x))
	})
}
