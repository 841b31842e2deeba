package dubbojson

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	hessian "github.com/apache/dubbo-go-hessian2"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/javatype"
)

// testClasses are DTOs and enums for the conversion tests.
var testClasses = map[string]ir.JavaClass{
	"com.foo.Level": {Name: "com.foo.Level", Enum: true, Constants: []string{"GOLD", "SILVER"}},
	"com.foo.Box": {Name: "com.foo.Box", TypeParams: []string{"T"}, Fields: []ir.JavaField{
		{Name: "count", Type: "int"}, {Name: "item", Type: "T"}, {Name: "level", Type: "com.foo.Level"}}},
}

// roundTrip encodes JSON as type typ, decodes the bytes with dubbo-go-hessian2's decoder (as a
// provider would) and renders the decoded value back to JSON.
func roundTrip(t *testing.T, typ, in string) (string, error) {
	t.Helper()
	jt, err := javatype.Parse(typ)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(in))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	w := newWriter()
	if err := (&encoder{w: w, classes: testClasses}).encode(jt, v, nil); err != nil {
		return "", err
	}
	decoded, err := hessian.NewDecoder(w.bytes()).Decode()
	if err != nil {
		t.Fatalf("%s %s: hessian2 cannot decode what was written: %v", typ, in, err)
	}
	out, err := json.Marshal((&renderer{classes: testClasses}).render(jt, decoded))
	if err != nil {
		t.Fatal(err)
	}
	return string(out), nil
}

func TestConversions(t *testing.T) {
	cases := []struct {
		typ, in, want string // want "" means in
	}{
		{"boolean", `true`, ``},
		{"java.lang.Boolean", `"false"`, `false`},
		{"byte", `-128`, ``},
		{"short", `"32767"`, `32767`},
		{"int", `-2147483648`, ``},
		{"java.lang.Integer", `null`, ``},
		{"long", `9223372036854775807`, `"9223372036854775807"`},
		{"java.lang.Long", `"-9007199254740993"`, `"-9007199254740993"`},
		{"double", `1.5e300`, `1.5e+300`},
		{"float", `0.5`, ``},
		{"char", `"é"`, ``},
		{"java.lang.String", `"héllo \u2603"`, `"héllo ☃"`},
		{"java.math.BigDecimal", `"12345678901234567890.123456789012345"`, ``},
		{"java.math.BigDecimal", `0.1000000000000000055511151231257827`, `"0.1000000000000000055511151231257827"`},
		{"java.math.BigDecimal", `"000012.50"`, `"12.50"`},
		{"java.math.BigDecimal", `1.5e3`, `"1500"`}, // sent as "1.5E+3"; hessian2 decodes it as gost's plain decimal
		{"java.math.BigDecimal", `"-1e-40"`, `"-0.0000000000000000000000000000000000000001"`},
		{"java.math.BigDecimal", `"9999999999999999999999999999999999999999E+40"`, `"99999999999999999999999999999999999999990000000000000000000000000000000000000000"`},
		{"java.math.BigInteger", `"-123456789012345678901234567890"`, ``},
		{"java.math.BigInteger", `0`, `"0"`},
		{"java.util.Date", `"2024-05-06T07:08:09.123+02:00"`, `"2024-05-06T05:08:09.123Z"`},
		{"java.time.Instant", `"2024-05-06T07:08:09.000000123Z"`, ``},
		{"java.time.LocalDate", `"2024-02-29"`, ``},
		{"java.time.LocalTime", `"23:59:58.5"`, ``},
		{"java.time.LocalDateTime", `"2024-02-29T23:59:58"`, ``},
		{"java.time.OffsetDateTime", `"2024-02-29T23:59:58+05:30"`, ``},
		{"java.time.ZonedDateTime", `"2024-10-27T02:30:00.5+01:00[Europe/Paris]"`, ``},
		{"java.time.ZonedDateTime", `"2024-05-06T07:08:09-03:00"`, ``},
		{"java.time.OffsetTime", `"23:59:58.5+05:30"`, ``},
		{"java.time.Duration", `"P2DT-0.5S"`, `"PT47H59M59.5S"`},
		{"java.time.Period", `"P1Y2M3W"`, `"P1Y2M21D"`},
		{"java.time.Year", `2024`, ``},
		{"java.time.Year", `"-44"`, `-44`},
		{"java.time.YearMonth", `"2024-02"`, ``},
		{"java.time.MonthDay", `"--02-29"`, ``},
		{"java.sql.Date", `"2024-02-29T00:00:00Z"`, ``},
		{"java.sql.Time", `86399000`, `"1970-01-01T23:59:59Z"`},
		{"java.sql.Timestamp", `"2024-05-06T07:08:09.123456+02:00"`, `"2024-05-06T05:08:09.123Z"`},
		{"java.util.Date", `1714979289123`, `"2024-05-06T07:08:09.123Z"`},
		{"java.util.concurrent.CompletableFuture<java.lang.Long>", `7`, `"7"`},
		{"java.util.List<java.util.UUID>", `[null]`, ``},
		{"com.foo.Box<java.util.Locale>", `{"count":1}`, `{"count":1,"item":null,"level":null}`},
		{"int[]", `[1,2,3]`, ``},
		{"long[]", `[1]`, `["1"]`},
		{"java.lang.String[]", `["a","b"]`, ``},
		{"byte[]", `"AAEC"`, ``},
		{"java.util.List<java.lang.Integer>", `[1,null,3]`, ``},
		{"java.util.Set<java.lang.String>", `["x"]`, ``},
		{"java.util.Map<java.lang.String, java.util.List<java.lang.Long>>", `{"a":[1,2]}`, `{"a":["1","2"]}`},
		{"java.util.Map<java.lang.Integer, java.lang.String>", `{"7":"seven"}`, ``},
		{"com.foo.Level", `"SILVER"`, ``},
		{"com.foo.Box<java.math.BigDecimal>", `{"count":2,"item":"1.10","level":"GOLD"}`, ``},
		{"com.foo.Box<com.foo.Box<java.lang.String>>", `{"item":{"item":"in"}}`, `{"count":0,"item":{"count":0,"item":"in","level":null},"level":null}`},
		{"java.util.List<com.foo.Level>", `["GOLD","SILVER"]`, ``},
		{"java.lang.Object", `{"a":[1,"x",true,null,2.5]}`, `{"a":["1","x",true,null,2.5]}`},
	}
	for _, c := range cases {
		want := c.want
		if want == "" {
			want = c.in
		}
		got, err := roundTrip(t, c.typ, c.in)
		if err != nil {
			t.Errorf("%s %s: %v", c.typ, c.in, err)
			continue
		}
		if !sameJSON(got, want) {
			t.Errorf("%s %s: got %s, want %s", c.typ, c.in, got, want)
		}
	}
}

func TestConversionErrors(t *testing.T) {
	cases := []struct {
		typ, in, want string
	}{
		{"int", `2147483648`, `: "2147483648" is not a int (32-bit integer)`},
		{"byte", `"128"`, `is not a byte (8-bit integer)`},
		{"long", `1.5`, `is not a long`},
		{"int", `null`, `null is not a int`},
		{"boolean", `"yes"`, `"yes" is not a boolean`},
		{"java.lang.String", `12`, `want a JSON string`},
		{"char", `"ab"`, `one-character string`},
		{"java.math.BigDecimal", `"1e"`, `is not a java.math.BigDecimal`},
		{"java.math.BigInteger", `"1.5"`, `is not a java.math.BigInteger`},
		{"java.math.BigDecimal", `1e999999999`, `has scale -999999999`},
		{"java.math.BigDecimal", `"-1E-41"`, `a scale within ±40 is accepted`},
		{"java.math.BigDecimal", `"12345678901234567890123456789012345678901"`, `has 41 significant digits: at most 40`},
		{"java.math.BigInteger", `"` + strings.Repeat("7", 1001) + `"`, `of 1001 digits: at most 1000`},
		{"java.util.Date", `"yesterday"`, `not an RFC 3339 timestamp`},
		{"java.time.ZonedDateTime", `"2024-05-06T07:08:09[Europe/Paris]"`, `not a zoned date-time`},
		{"java.time.Duration", `"1.5s"`, `"1.5s" is not an ISO 8601 duration`},
		{"java.time.Duration", `90`, `want a string for java.time.Duration`},
		{"java.time.Period", `"P1H"`, `not an ISO 8601 period`},
		{"java.time.MonthDay", `"--02-30"`, `not a day of the year`},
		{"java.sql.Date", `true`, `want a string for java.sql.Date`},
		{"long", `"+5"`, `is not a long`},
		{"java.util.UUID", `"4f1c"`, `java.util.UUID has no JSON mapping: only null is accepted`},
		{"com.foo.Box<java.util.UUID>", `{"item":"x"}`, `.item: java.util.UUID has no JSON mapping`},
		{"void", `1`, `want null for void`},
		{"java.time.LocalDate", `"2024-02-30"`, `not a date`},
		{"java.util.List<java.lang.Integer>", `[1,"x"]`, `[1]: "x" is not a java.lang.Integer`},
		{"java.util.Map<java.lang.Integer, java.lang.String>", `{"k":"v"}`, `.k(key): "k" is not a java.lang.Integer`},
		{"com.foo.Level", `"BRONZE"`, `"BRONZE" is not a constant of com.foo.Level (GOLD, SILVER)`},
		{"com.foo.Box<java.lang.String>", `{"colour":"red"}`, `com.foo.Box has no field "colour"`},
		{"com.foo.Box<java.lang.Integer>", `{"item":"x"}`, `.item: "x" is not a java.lang.Integer`},
		{"com.foo.Box<java.lang.String>", `[]`, `want a JSON object for com.foo.Box`},
		// Paths of values deep inside, after siblings at every depth were written.
		{"java.util.List<com.foo.Box<java.util.Map<String, int[]>>>", `[{"item":{"a":[1],"b":[1,2,"x"]}}]`,
			`[0].item.b[2]: "x" is not a int`},
		{"java.util.Map<String, java.util.List<com.foo.Box<Integer>>>", `{"a":[],"b":[{"count":1},{"item":1,"level":"RED"}]}`,
			`.b[1].level: "RED" is not a constant`},
	}
	for _, c := range cases {
		_, err := roundTrip(t, c.typ, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s: error %v, want one containing %q", c.typ, c.in, err, c.want)
		}
	}
}

func TestTemplate(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          map[string]string
	}{
		{"/users/{id}", "/users/42", map[string]string{"id": "42"}},
		{"/users/{id}/books/{isbn}:buy", "/users/a%2Fb/books/9-7:buy", map[string]string{"id": "a/b", "isbn": "9-7"}},
		{"/files/{path=docs/*}", "/files/docs/x.txt", map[string]string{"path": "docs/x.txt"}},
		{"/v1/{name}/**", "/v1/x/a/b", map[string]string{"name": "x"}},
		{"/users/{id}", "/users/42/more", nil},
	}
	for _, c := range cases {
		tmpl, err := compileTemplate(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tmpl.bind(c.path)
		if ok != (c.want != nil) || mustJSON(got) == nil || (c.want != nil && !bytes.Equal(mustJSON(got), mustJSON(c.want))) {
			t.Errorf("%s on %s: %v %v, want %v", c.pattern, c.path, got, ok, c.want)
		}
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return bytes.Equal(mustJSON(x), mustJSON(y))
}
