package dubbourl

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

const greeter = "dubbo://10.0.0.1:20880/com.foo.Greeter?anyhost=true&application=demo&interface=com.foo.Greeter" +
	"&version=1.0.0&group=g&methods=sayHello,sayBye,sayHello,&weight=0&timeout=3000&side=provider"

func TestParseProviderURL(t *testing.T) {
	u, err := Parse(greeter)
	if err != nil {
		t.Fatal(err)
	}
	if u.Protocol != "dubbo" || u.Host != "10.0.0.1" || u.Port != 20880 || u.Path != "com.foo.Greeter" {
		t.Errorf("got %s %s %d %s", u.Protocol, u.Host, u.Port, u.Path)
	}
	if u.Interface() != "com.foo.Greeter" || u.Version() != "1.0.0" || u.Group() != "g" {
		t.Errorf("identity: %q %q %q", u.Interface(), u.Version(), u.Group())
	}
	if got, want := u.Methods(), []string{"sayBye", "sayHello"}; !slices.Equal(got, want) {
		t.Errorf("Methods() = %q, want %q", got, want)
	}
	if u.Weight() != DefaultWeight {
		t.Errorf("weight=0 gave %d, want %d", u.Weight(), DefaultWeight)
	}
	if d, ok := u.Timeout(); !ok || d != 3*time.Second {
		t.Errorf("Timeout() = %v %v", d, ok)
	}
	if u.Params["application"] != "demo" || len(u.Params) != 9 {
		t.Errorf("params = %v", u.Params)
	}
}

func TestParseVariants(t *testing.T) {
	cases := []struct {
		raw                  string
		host, iface, path    string
		port                 uint16
		weight               uint32
		methods              []string
		extraKey, extraValue string
	}{
		{raw: "tri://[::1]:50051/x.Svc?weight=7", host: "::1", port: 50051, iface: "x.Svc", path: "x.Svc", weight: 7},
		{raw: "dubbo://u:p@h.example:1/ctx/x.Svc?interface=x.Svc", host: "h.example", port: 1, iface: "x.Svc", path: "ctx/x.Svc", weight: 100},
		{raw: "dubbo://h:2/p?weight=-5&methods=", host: "h", port: 2, iface: "p", path: "p", weight: 100},
		{raw: "dubbo://h:3/p?k=a%2Cb+c", host: "h", port: 3, iface: "p", path: "p", weight: 100, extraKey: "k", extraValue: "a,b+c"},
		{raw: "dubbo://h:4/p?methods=b,a&weight=x", host: "h", port: 4, iface: "p", path: "p", weight: 100, methods: []string{"a", "b"}},
	}
	for _, c := range cases {
		u, err := Parse(c.raw)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.raw, err)
			continue
		}
		if u.Host != c.host || u.Port != c.port || u.Interface() != c.iface || u.Path != c.path || u.Weight() != c.weight {
			t.Errorf("Parse(%q) = %+v (iface %q weight %d)", c.raw, u, u.Interface(), u.Weight())
		}
		if !slices.Equal(u.Methods(), c.methods) {
			t.Errorf("Parse(%q).Methods() = %q, want %q", c.raw, u.Methods(), c.methods)
		}
		if c.extraKey != "" && u.Params[c.extraKey] != c.extraValue {
			t.Errorf("Parse(%q).Params[%q] = %q, want %q", c.raw, c.extraKey, u.Params[c.extraKey], c.extraValue)
		}
	}
}

func TestParseErrors(t *testing.T) {
	many := "dubbo://h:1/p?" + strings.Repeat("a=b&", MaxParams+1)
	cases := map[string]string{
		"dubbo://h:1/p?k=%zz":    "invalid URL escape",
		"dubbo://:20880/p":       "missing host",
		"dubbo:///p":             "missing host",
		"dubbo://h/p":            "missing port",
		"dubbo://h:abc/p":        `bad port "abc"`,
		"dubbo://h:0/p":          "out of range",
		"dubbo://h:65536/p":      "out of range",
		"dubbo://h:1/?version=1": "empty interface",
		"dubbo://h:1":            "empty interface",
		"10.0.0.1:20880/p":       `missing "://"`,
		"://h:1/p":               "missing protocol",
		"dubbo://[::1/p":         "unterminated IPv6",
		"dubbo://h h:1/p":        "invalid host",
		many:                     "more than 1000 parameters",
		"dubbo://h:1/p?x=" + strings.Repeat("a", MaxLength): "too large",
	}
	for raw, want := range cases {
		_, err := Parse(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%.60q) error = %v, want it to contain %q", raw, err, want)
		}
	}
	if _, err := Parse(many); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too many params: %v is not ErrTooLarge", err)
	}
}

func TestStringRoundTrip(t *testing.T) {
	u, err := Parse(greeter)
	if err != nil {
		t.Fatal(err)
	}
	u.Params["odd key&="] = "v a%l=ue&x"
	u.Path = "a b/c?d"
	checkRoundTrip(t, u)
}

func checkRoundTrip(t *testing.T, u URL) {
	t.Helper()
	s := u.String()
	v, err := Parse(s)
	if err != nil {
		t.Fatalf("re-parse of %q (from %+v): %v", s, u, err)
	}
	if u.Protocol != v.Protocol || u.Host != v.Host || u.Port != v.Port || u.Path != v.Path ||
		!maps.Equal(u.Params, v.Params) {
		t.Fatalf("round trip changed the URL:\n  %+v\n  %q\n  %+v", u, s, v)
	}
}

// FuzzParse checks that Parse never panics and that whatever it accepts survives String and a
// second Parse unchanged. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(greeter)
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := Parse(raw)
		if err != nil {
			return
		}
		_ = u.Methods()
		_ = u.Weight()
		_, _ = u.Timeout()
		checkRoundTrip(t, u)
	})
}
