package javatype

import (
	"regexp"
	"testing"
)

func TestFamilies(t *testing.T) {
	cases := []struct {
		name   string
		family Family
		bits   int
		scalar bool
	}{
		{"int", Integer, 32, true},
		{"java.lang.Byte", Integer, 8, true},
		{"long", Integer, 64, true},
		{"float", Float, 32, true},
		{"java.lang.Double", Float, 64, true},
		{"char", Char, 0, true},
		{"java.lang.CharSequence", String, 0, true},
		{"java.math.BigDecimal", BigDecimal, 0, true},
		{"java.sql.Timestamp", Date, 0, true},
		{"java.time.ZonedDateTime", ZonedDateTime, 0, true},
		{"java.time.Duration", Duration, 0, true},
		{"java.time.MonthDay", MonthDay, 0, true},
		{"byte[]", Bytes, 0, false},
		{"byte[][]", Array, 0, false},
		{"int[]", Array, 0, false},
		{"java.util.List<java.lang.String>", Collection, 0, false},
		{"java.util.concurrent.ConcurrentMap<K,V>", Map, 0, false},
		{"java.util.concurrent.CompletableFuture<com.foo.User>", Future, 0, false},
		{"java.lang.Object", Any, 0, false},
		{"T", Any, 0, false},
		{"void", Void, 0, false},
		{"java.lang.Void", Void, 0, false},
		{"com.foo.User", Class, 0, false},
		{"java.util.UUID", Unsupported, 0, false},
		{"javax.money.MonetaryAmount", Unsupported, 0, false},
	}
	for _, c := range cases {
		typ, err := Parse(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if got := typ.Family(); got != c.family || typ.Bits() != c.bits || got.Scalar() != c.scalar {
			t.Errorf("%s: family %d bits %d scalar %v, want %d %d %v", c.name, got, typ.Bits(), got.Scalar(), c.family, c.bits, c.scalar)
		}
	}
	set, _ := Parse("java.util.TreeSet<java.lang.String>")
	list, _ := Parse("java.util.List<java.lang.String>")
	if !set.Unique() || list.Unique() {
		t.Error("Unique: sets hold no duplicates, lists may")
	}
}

func TestUnsupported(t *testing.T) {
	cases := map[Name]string{
		"java.util.UUID": "java.util.UUID",
		"java.util.List<java.util.Optional<com.foo.User>>": "java.util.Optional",
		"java.time.ZoneId[]": "java.time.ZoneId",
		"java.util.Map<java.lang.String,? extends java.util.Locale>": "java.util.Locale",
		"java.util.Map<java.lang.String,java.time.Period>":           "",
		"com.foo.Box<T>[]": "",
		"int":              "",
		"java.util<":       "java.util<",
	}
	for in, want := range cases {
		if got := in.Unsupported(); got != want {
			t.Errorf("%s.Unsupported() = %q, want %q", in, got, want)
		}
	}
}

// TestJDKClasses: every JDK class with a mapping is listed, and nothing else.
func TestJDKClasses(t *testing.T) {
	names := JDKClasses()
	for _, n := range names {
		if f := Name(n).Family(); f == Unsupported || f == Class {
			t.Errorf("%s is listed but has family %d", n, f)
		}
	}
	if len(names) != len(classes)-len(primitives) {
		t.Errorf("%d JDK classes listed, the table has %d besides the primitives", len(names), len(classes)-len(primitives))
	}
}

// TestSchemas: every scalar family has a schema, and every pattern compiles as the regular
// expression it claims to be.
func TestSchemas(t *testing.T) {
	for name := range classes {
		typ, err := Parse(name)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := typ.JSONSchema(NumberLimits{})
		if typ.Family().Scalar() && !ok {
			t.Errorf("%s is scalar but has no schema", name)
		}
		if s.Pattern != "" {
			if _, err := regexp.Compile(s.Pattern); err != nil {
				t.Errorf("%s: pattern %q: %v", name, s.Pattern, err)
			}
		}
	}
	short, _ := Parse("short")
	s, _ := short.JSONSchema(NumberLimits{})
	if s.Type != "integer" || *s.Minimum != -32768 || *s.Maximum != 32767 {
		t.Errorf("short: %+v", s)
	}
	uuid, _ := Parse("java.util.UUID")
	if s, ok := uuid.JSONSchema(NumberLimits{}); !ok || s.Type != "null" {
		t.Errorf("an unsupported class must be described as always null: %+v", s)
	}
}
