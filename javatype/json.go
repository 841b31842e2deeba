package javatype

// DecimalPattern is the syntax java.math.BigDecimal(String) accepts, which is what the gateway
// accepts for a BigDecimal and what BigDecimal.toString produces.
const DecimalPattern = `^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`

// IntegerPattern is the syntax of the integers the gateway reads from strings and writes as
// strings (long, BigInteger).
const IntegerPattern = `^-?[0-9]+$`

// JSONSchema is the JSON Schema (the dialect of OpenAPI 3.1) of the values of a type whose JSON
// form is fixed: a scalar family, byte[], void and the unsupported classes. Structured types
// (arrays, collections, maps, classes, any value) are described by their parts.
type JSONSchema struct {
	// Type is "boolean", "integer", "number", "string" or "null".
	Type string
	// Format is the JSON Schema or OpenAPI format ("int32", "date-time", "byte"), or "".
	Format string
	// Pattern is an ECMA 262 regular expression the text matches, or "".
	Pattern string
	// ContentEncoding is "base64" for byte[].
	ContentEncoding string
	// Minimum and Maximum bound integers narrower than 32 bits.
	Minimum, Maximum *int64
	// Length is the exact length of the string in characters (1 for char), or 0.
	Length int
	// MaxLength bounds the length of the string in characters (BigDecimal, BigInteger), or 0.
	MaxLength int
	// Description says what the format does not, or "".
	Description string
}

// familySchemas are the fixed schemas by family. Integer and Float are completed by Bits.
var familySchemas = map[Family]JSONSchema{
	Void:           {Type: "null"},
	Boolean:        {Type: "boolean"},
	Char:           {Type: "string", Length: 1},
	String:         {Type: "string"},
	Date:           {Type: "string", Format: "date-time"},
	Instant:        {Type: "string", Format: "date-time"},
	OffsetDateTime: {Type: "string", Format: "date-time"},
	ZonedDateTime: {Type: "string", Pattern: zonedPattern, Description: "An RFC 3339 date-time with " +
		"offset, then the zone ID in brackets when the zone is a region, as ZonedDateTime.toString " +
		"prints it (\"2024-10-27T02:30:00+01:00[Europe/Paris]\"); without brackets the zone is the offset."},
	LocalDate: {Type: "string", Format: "date"},
	LocalTime: {Type: "string", Pattern: `^[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?$`,
		Description: "A time of day without offset (\"23:59:58.5\")."},
	LocalDateTime: {Type: "string", Pattern: `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?$`,
		Description: "A local date-time without offset (\"2024-01-31T10:15:30\")."},
	OffsetTime: {Type: "string", Format: "time"},
	Duration: {Type: "string", Pattern: durationPattern, Description: "An ISO 8601 duration as " +
		"java.time.Duration prints and parses it (\"PT49H30M0.25S\", \"PT-0.5S\")."},
	Period: {Type: "string", Pattern: periodPattern, Description: "An ISO 8601 period as " +
		"java.time.Period prints and parses it (\"P1Y2M3D\", \"P-1M\")."},
	Year:      {Type: "integer", Format: "int32"},
	YearMonth: {Type: "string", Pattern: yearMonthPattern, Description: "A year and month (\"2024-02\")."},
	MonthDay:  {Type: "string", Pattern: monthDayPattern, Description: "A month and day (\"--02-29\")."},
	Bytes:     {Type: "string", Format: "byte", ContentEncoding: "base64"},
}

// JSONSchema returns the schema of t's values and true when t's JSON form is fixed (see
// JSONSchema), or false for structured types. BigDecimal and BigInteger schemas state limits.
func (t *Type) JSONSchema(limits NumberLimits) (JSONSchema, bool) {
	f := t.Family()
	switch f {
	case BigDecimal, BigInteger:
		return limits.schema(f), true
	case Integer:
		bits := t.Bits()
		if bits == 64 { // a string, so that no precision is lost
			return JSONSchema{Type: "string", Format: "int64", Pattern: IntegerPattern}, true
		}
		s := JSONSchema{Type: "integer", Format: "int32"}
		if bits < 32 {
			lo, hi := -int64(1)<<(bits-1), int64(1)<<(bits-1)-1
			s.Minimum, s.Maximum = &lo, &hi
		}
		return s, true
	case Float:
		if t.Bits() == 32 {
			return JSONSchema{Type: "number", Format: "float"}, true
		}
		return JSONSchema{Type: "number", Format: "double"}, true
	case Unsupported:
		return JSONSchema{Type: "null", Description: t.Name + " has no JSON mapping in rpcbridge: always null."}, true
	}
	s, ok := familySchemas[f]
	if f == Date && t.Name != "java.util.Date" {
		s.Description = t.Name + " travels as the instant it holds (millisecond precision): its calendar " +
			"date and time of day are those of the provider's time zone, which the gateway does not know."
	}
	return s, ok
}
