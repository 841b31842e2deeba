package javatype

import (
	"maps"
	"slices"
	"strings"
)

// Family is the kind of a Java type as far as its JSON form goes: every type of one family maps
// to JSON the same way (the README's "JSON and Java values" table lists them).
type Family uint8

// The families. Class is the zero value.
const (
	// Class is a class that is not a JDK value type: a DTO or an enum the schema describes (a
	// JSON object of its fields, or the constant's name), or a class the schema does not describe
	// (any JSON value, sent as maps; a Java provider's generic service realizes them).
	Class Family = iota
	// Any is java.lang.Object, java.io.Serializable, java.lang.Number, a type variable or a
	// wildcard without an upper bound: any JSON value.
	Any
	// Void is void and java.lang.Void: always null.
	Void
	// Boolean is boolean and java.lang.Boolean.
	Boolean
	// Integer is byte, short, int, long and their wrappers (see Bits).
	Integer
	// Float is float, double and their wrappers (see Bits).
	Float
	// Char is char and java.lang.Character: a one-character string.
	Char
	// String is java.lang.String and java.lang.CharSequence.
	String
	// BigDecimal is java.math.BigDecimal: a decimal string.
	BigDecimal
	// BigInteger is java.math.BigInteger: a string of decimal digits.
	BigInteger
	// Date is java.util.Date and the java.sql types that extend it (Date, Time, Timestamp): an
	// instant with millisecond precision, RFC 3339. Their calendar meaning depends on the
	// provider JVM's default time zone, which the gateway does not know, so all four are
	// instants (see ClassName for the class a value travels as).
	Date
	// Instant is java.time.Instant: RFC 3339 in UTC.
	Instant
	// OffsetDateTime is java.time.OffsetDateTime: RFC 3339 with its offset.
	OffsetDateTime
	// ZonedDateTime is java.time.ZonedDateTime: RFC 3339 with its offset, then the zone ID in
	// brackets when the zone is a region, as ZonedDateTime.toString prints it.
	ZonedDateTime
	// LocalDate is java.time.LocalDate: "2024-02-29".
	LocalDate
	// LocalTime is java.time.LocalTime: "23:59:58.5".
	LocalTime
	// LocalDateTime is java.time.LocalDateTime: "2024-02-29T23:59:58.5".
	LocalDateTime
	// OffsetTime is java.time.OffsetTime: "23:59:58.5+05:30".
	OffsetTime
	// Duration is java.time.Duration: ISO 8601 as Duration.toString prints it ("PT1H30M0.5S").
	Duration
	// Period is java.time.Period: ISO 8601 as Period.toString prints it ("P1Y2M3D").
	Period
	// Year is java.time.Year: the year as a JSON integer.
	Year
	// YearMonth is java.time.YearMonth: "2024-02".
	YearMonth
	// MonthDay is java.time.MonthDay: "--02-29", as MonthDay.toString prints it.
	MonthDay
	// Bytes is byte[]: a base64 string.
	Bytes
	// Array is every other array: a JSON array of its elements (Type.Elem).
	Array
	// Collection is java.util's lists, sets, queues and java.lang.Iterable: a JSON array of
	// their type argument (see Unique).
	Collection
	// Map is java.util's maps: a JSON object whose keys are parsed as the first type argument and
	// whose values are the second.
	Map
	// Future is CompletableFuture, CompletionStage and Future: the value of a Dubbo async method,
	// its type argument (a generic call answers with the value itself).
	Future
	// Unsupported is a JDK class (java.*, javax.*) with no JSON mapping, such as java.util.UUID
	// or java.util.Optional: transcoding serves no method whose parameters or result need one,
	// and a DTO field of such a type is always null.
	Unsupported
)

// class is what the table knows of one JDK class.
type class struct {
	family Family
	// bits is the size of an integer or floating-point type.
	bits int
	// unique is set for sets: their JSON arrays hold no duplicates.
	unique bool
}

// classes are the JDK types with a JSON mapping, by name (primitives by their keyword).
var classes = map[string]class{
	"void": {family: Void}, "java.lang.Void": {family: Void},
	"java.lang.Object": {family: Any}, "java.io.Serializable": {family: Any}, "java.lang.Number": {family: Any},
	"boolean": {family: Boolean}, "java.lang.Boolean": {family: Boolean},
	"byte": {family: Integer, bits: 8}, "java.lang.Byte": {family: Integer, bits: 8},
	"short": {family: Integer, bits: 16}, "java.lang.Short": {family: Integer, bits: 16},
	"int": {family: Integer, bits: 32}, "java.lang.Integer": {family: Integer, bits: 32},
	"long": {family: Integer, bits: 64}, "java.lang.Long": {family: Integer, bits: 64},
	"float": {family: Float, bits: 32}, "java.lang.Float": {family: Float, bits: 32},
	"double": {family: Float, bits: 64}, "java.lang.Double": {family: Float, bits: 64},
	"char": {family: Char}, "java.lang.Character": {family: Char},
	"java.lang.String": {family: String}, "java.lang.CharSequence": {family: String},
	"java.math.BigDecimal": {family: BigDecimal}, "java.math.BigInteger": {family: BigInteger},
	"java.util.Date": {family: Date}, "java.sql.Date": {family: Date}, "java.sql.Time": {family: Date},
	"java.sql.Timestamp":       {family: Date},
	"java.time.Instant":        {family: Instant},
	"java.time.OffsetDateTime": {family: OffsetDateTime},
	"java.time.ZonedDateTime":  {family: ZonedDateTime},
	"java.time.LocalDate":      {family: LocalDate},
	"java.time.LocalTime":      {family: LocalTime},
	"java.time.LocalDateTime":  {family: LocalDateTime},
	"java.time.OffsetTime":     {family: OffsetTime},
	"java.time.Duration":       {family: Duration},
	"java.time.Period":         {family: Period},
	"java.time.Year":           {family: Year},
	"java.time.YearMonth":      {family: YearMonth},
	"java.time.MonthDay":       {family: MonthDay},
	"java.lang.Iterable":       {family: Collection}, "java.util.Collection": {family: Collection},
	"java.util.List": {family: Collection}, "java.util.ArrayList": {family: Collection},
	"java.util.LinkedList": {family: Collection}, "java.util.Vector": {family: Collection},
	"java.util.Queue": {family: Collection}, "java.util.Deque": {family: Collection},
	"java.util.ArrayDeque": {family: Collection},
	"java.util.Set":        {family: Collection, unique: true}, "java.util.HashSet": {family: Collection, unique: true},
	"java.util.LinkedHashSet": {family: Collection, unique: true}, "java.util.TreeSet": {family: Collection, unique: true},
	"java.util.SortedSet": {family: Collection, unique: true}, "java.util.NavigableSet": {family: Collection, unique: true},
	"java.util.Map": {family: Map}, "java.util.HashMap": {family: Map}, "java.util.LinkedHashMap": {family: Map},
	"java.util.TreeMap": {family: Map}, "java.util.SortedMap": {family: Map}, "java.util.NavigableMap": {family: Map},
	"java.util.Hashtable": {family: Map}, "java.util.concurrent.ConcurrentMap": {family: Map},
	"java.util.concurrent.ConcurrentHashMap": {family: Map},
	"java.util.concurrent.CompletableFuture": {family: Future}, "java.util.concurrent.CompletionStage": {family: Future},
	"java.util.concurrent.Future": {family: Future},
}

// Family is the family of t. Arrays are Array (Bytes for byte[]), whatever their element.
func (t *Type) Family() Family {
	switch {
	case t.Dims == 1 && t.Name == "byte":
		return Bytes
	case t.Dims > 0:
		return Array
	case t.Name == "?" || t.IsTypeVariable():
		return Any
	}
	if c, ok := classes[t.Name]; ok {
		return c.family
	}
	if IsJDK(t.Name) {
		return Unsupported
	}
	return Class
}

// IsJDK reports whether a class belongs to the JDK's own packages (java.*, javax.*): an IDL
// never defines those.
func IsJDK(name string) bool {
	return strings.HasPrefix(name, "java.") || strings.HasPrefix(name, "javax.")
}

// Bits is the size in bits of an Integer or Float type (byte 8 … long 64, float 32, double
// 64), else 0.
func (t *Type) Bits() int {
	if t.Dims > 0 {
		return 0
	}
	return classes[t.Name].bits
}

// Unique reports whether t is a set: its JSON array holds no duplicates.
func (t *Type) Unique() bool { return t.Dims == 0 && classes[t.Name].unique }

// Scalar reports whether a value of the family is one JSON string, number or boolean that also
// fits in one query parameter, path variable or header: these families (and enums) are the
// arguments a method may take to be served by GET.
func (f Family) Scalar() bool {
	switch f {
	case Boolean, Integer, Float, Char, String, BigDecimal, BigInteger, Date, Instant, OffsetDateTime,
		ZonedDateTime, LocalDate, LocalTime, LocalDateTime, OffsetTime, Duration, Period, Year, YearMonth, MonthDay:
		return true
	}
	return false
}

// Temporal reports whether f is a date or time family, whose values ParseTemporal reads.
func (f Family) Temporal() bool {
	return f >= Date && f <= MonthDay
}

// Unsupported returns the first class t mentions (itself, its element type or a type
// argument) that has no JSON mapping, or "" when t maps entirely. Type variables, wildcards and
// classes outside the JDK count as mapped: what they hold is decided by the schema or is any
// JSON value.
func (t *Type) Unsupported() string {
	if _, known := classes[t.Name]; !known && IsJDK(t.Name) {
		return t.Name
	}
	for _, a := range t.Args {
		if u := a.Unsupported(); u != "" {
			return u
		}
	}
	return ""
}

// Unsupported is Type.Unsupported for a name; a malformed name is reported whole.
func (n Name) Unsupported() string {
	t, err := n.parse()
	if err != nil {
		return string(n)
	}
	return t.Unsupported()
}

// Family is Type.Family for a name; a malformed name is Unsupported.
func (n Name) Family() Family {
	t, err := n.parse()
	if err != nil {
		return Unsupported
	}
	return t.Family()
}

// JDKClasses are the JDK classes with a JSON mapping, sorted: the classes an IDL may name
// without declaring them.
func JDKClasses() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(classes)) {
		if strings.Contains(name, ".") {
			out = append(out, name)
		}
	}
	return out
}
