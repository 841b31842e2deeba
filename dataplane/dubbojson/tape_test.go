package dubbojson

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dubborpc"
	"github.com/rpcbridge/rpcbridge/internal/testpeers/dubboprovider"
)

// tapeClasses are the provider's DTOs and enums with the conversion tests' generic Box.
func tapeClasses() []ir.JavaClass {
	return append(dubboprovider.JavaClasses(), testClasses["com.foo.Box"], testClasses["com.foo.Level"])
}

// tapeTypes are the argument types the differential tests put bodies through: the provider's
// DTOs (every type family the conversion supports is a field of Sample or User), generics,
// containers and untyped values.
var tapeTypes = []string{
	"org.rpcbridge.test.User", "org.rpcbridge.test.Sample", "java.lang.Object", "java.util.Map<String, Integer>",
	"java.util.List<org.rpcbridge.test.User>", "int[]", "com.foo.Box<org.rpcbridge.test.User>",
	"java.util.Map<Long, java.util.List<String>>", "java.lang.String[][]", "java.math.BigDecimal",
	"java.util.concurrent.CompletableFuture<java.util.Set<com.foo.Level>>", "org.unknown.Dto", "long",
	"java.util.Map<String, Object>", "byte[]", "java.time.LocalDate",
}

// prepared is what Prepare made of a request: the raw arguments' bytes or the error.
type prepared struct {
	args [][]byte
	err  string
}

func prepareBoth(t testing.TB, typ, body string, from ir.ParamSource) (tape, decoded prepared) {
	t.Helper()
	params := []ir.DubboParam{{Name: "arg", Type: typ, From: from, Key: "arg"}}
	if from == ir.FromBody {
		params = append(params, ir.DubboParam{Name: "n", Type: "java.lang.Integer", From: ir.FromBody, Key: "n"})
	}
	run := func(decodedOnly bool) prepared {
		route, err := NewRoute(Metadata{Route: ir.DubboRoute{Interface: "com.foo.Svc", Method: "m", Params: params},
			JavaClasses: tapeClasses()}, "")
		if err != nil {
			t.Fatal(err)
		}
		route.decodedOnly = decodedOnly
		call, err := route.Prepare(httptest.NewRequest("POST", "/m", strings.NewReader(body)))
		if err != nil {
			return prepared{err: fmt.Sprintf("%T %v", err, err)}
		}
		var out prepared
		for _, a := range reflect.ValueOf(call.Args[2]).Seq2() {
			out.args = append(out.args, a.Interface().(dubborpc.RawArg))
		}
		return out
	}
	return run(false), run(true)
}

func checkBoth(t *testing.T, typ, body string, from ir.ParamSource) {
	t.Helper()
	got, want := prepareBoth(t, typ, body, from)
	if got.err != want.err || len(got.args) != len(want.args) {
		t.Fatalf("%s %s %.200q:\n tape    %q\n decoded %q", from, typ, body, got.err, want.err)
	}
	for i := range got.args {
		if !bytes.Equal(got.args[i], want.args[i]) {
			t.Fatalf("%s %s %.200q: argument %d:\n tape    % x\n decoded % x", from, typ, body, i, got.args[i], want.args[i])
		}
	}
}

// TestTapeAsDecoded holds the arguments written from the tape to those written from the
// decoded body, byte for byte (class definitions, field order, sorted map keys, refusals
// and their messages), for the provider's DTOs and bodies around them.
func TestTapeAsDecoded(t *testing.T) {
	sample := dubboprovider.SampleJSON
	bodies := map[string][]string{
		"org.rpcbridge.test.User": {userJSON, `{}`, `{"id":1}`, `{"id":"x"}`, `{"nope":1}`, `[]`, `"s"`, `null`,
			`{"name":"a","name":"b"}`, `{"level":"BRONZE"}`, `{"tags":["a",1]}`, `{"scores":{"b":2,"a":1,"b":3}}`,
			`{"address":{"street":"é\u00e9\ud83d\ude00\n\"/"}}`, `{"id" : 1 , "name" : "x" }`, " \n" + userJSON + "\t"},
		"org.rpcbridge.test.Sample": {sample, strings.Replace(sample, `"flag":true`, `"flag":1`, 1),
			strings.Replace(sample, `"day":"2024-02-29"`, `"day":[1]`, 1), strings.Replace(sample, `"counts":[1,-2,3]`, `"counts":{}`, 1),
			strings.Replace(sample, `"raw":"AAEC/w=="`, `"raw":[0,1]`, 1)},
		"java.lang.Object":                        {`{"b":[1,2.5,"x",true,null,{"z":{}}],"a":-0,"c":1e400}`, `[[[]]]`, `{"k":1,"k":2}`, `123456789012345678901234567890`},
		"java.util.Map<String, Integer>":          {`{"b":1,"a":2}`, `{"a":"x"}`, `{"a":[1]}`},
		"java.util.List<org.rpcbridge.test.User>": {`[` + userJSON + `,{},null,` + userJSON + `]`, `[1]`, `{}`},
		"int[]":                                {`[1,2,3]`, `[2147483648]`, `[]`, `[[1]]`},
		"com.foo.Box<org.rpcbridge.test.User>": {`{"count":2,"item":` + userJSON + `,"level":"GOLD"}`, `{"item":[]}`},
		"java.util.Map<Long, java.util.List<String>>":                          {`{"1":["a"],"x":[]}`, `{"2":["b"],"1":null}`},
		"java.lang.String[][]":                                                 {`[["a"],[],null]`, `[["a",1]]`},
		"java.util.concurrent.CompletableFuture<java.util.Set<com.foo.Level>>": {`["GOLD","SILVER"]`, `[{"a":1}]`},
		"org.unknown.Dto":                                                      {`{"x":{"y":[1]}}`}, "long": {`{}`, `"5"`},
		"java.util.Map<String, Object>": {`{"":{"":""}}`}, "byte[]": {`[1,2]`, `"AAEC"`}, "java.time.LocalDate": {`{}`, `"2024-02-29"`},
	}
	malformed := []string{``, ` `, `{`, `{"a":}`, `[1,]`, `{"a":1,}`, `01`, `1.`, `-`, `1e`, `"\x"`, `"\u12"`, "\"\t\"",
		`{"a":1} x`, `{"a":1}}`, `{"a":1} {"b":2}`, `tru`, `nul`, `[1 2]`, `{"a" 1}`, `{1:2}`, `"\ud800"`, "\xff"}
	for _, typ := range tapeTypes {
		for _, body := range append(append([]string(nil), bodies[typ]...), malformed...) {
			checkBoth(t, typ, body, ir.FromWholeBody)
			checkBoth(t, typ, `{"n":3,"arg":`+body+`}`, ir.FromBody)
		}
	}
	// The DTO bodies are written from the tape, not by falling back to the decoded path.
	for _, typ := range []string{"org.rpcbridge.test.User", "org.rpcbridge.test.Sample"} {
		route, err := NewRoute(Metadata{Route: ir.DubboRoute{Interface: "com.foo.Svc", Method: "m",
			Params: []ir.DubboParam{{Name: "arg", Type: typ, From: ir.FromWholeBody}}}, JavaClasses: tapeClasses()}, "")
		if err != nil {
			t.Fatal(err)
		}
		body := map[bool]string{true: userJSON, false: sample}[strings.HasSuffix(typ, "User")]
		src, err := route.sources(httptest.NewRequest("POST", "/m", strings.NewReader(body)))
		if err != nil || src.tape == nil {
			t.Fatalf("%s: no tape (%v)", typ, err)
		}
		if _, err := route.encodeArgs(src); err != nil {
			t.Errorf("%s: the tape did not write the body: %v", typ, err)
		}
		src.release()
	}
}

// FuzzTapeAsDecoded: for any body and any of tapeTypes, the tape and the decoded body give the
// same arguments or the same refusal.
func FuzzTapeAsDecoded(f *testing.F) {
	f.Add(uint8(0), userJSON)
	f.Add(uint8(1), dubboprovider.SampleJSON)
	f.Add(uint8(2), `{"a":[1,{"b":null}],"a":"\u00e9"}`)
	f.Add(uint8(3), `{"x":1,"y":"2"}`)
	f.Add(uint8(6), `{"count":1,"item":{"id":"5"}}`)
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		typ := tapeTypes[int(which)%len(tapeTypes)]
		checkBoth(t, typ, body, ir.FromWholeBody)
	})
}
