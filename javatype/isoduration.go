package javatype

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// signedPart parses one optionally signed part of a duration or period; "" is 0.
func signedPart(s string, bits int) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, bits)
}

// parseDuration follows java.time.Duration.parse: days, hours, minutes and seconds (with up
// to nine fraction digits) are each signed, and a leading '-' negates the whole.
func parseDuration(s string) (int64, int32, error) {
	m := durationSyntax.FindStringSubmatch(s)
	if m == nil || m[2] == "" && m[4] == "" && m[5] == "" && m[6] == "" || strings.EqualFold(m[3], "T") {
		return 0, 0, fmt.Errorf("%q is not an ISO 8601 duration (PnDTnHnMn.nS)", s)
	}
	overflow := fmt.Errorf("%q is out of java.time.Duration's range", s)
	var total int64 // days + (hours + (minutes + seconds)), each step checked as Java's addExact
	for _, p := range []struct {
		group int
		unit  int64
	}{{6, 1}, {5, 60}, {4, 3600}, {2, 86400}} {
		n, err := signedPart(m[p.group], 64)
		if err != nil {
			return 0, 0, overflow
		}
		part, ok := mulExact(n, p.unit)
		if !ok {
			return 0, 0, overflow
		}
		if total, ok = addExact(total, part); !ok {
			return 0, 0, overflow
		}
	}
	var nanos int64
	if m[7] != "" {
		nanos, _ = strconv.ParseInt((m[7] + "000000000")[:9], 10, 64)
		if strings.HasPrefix(m[6], "-") {
			nanos = -nanos
		}
	}
	secs, n := total, nanos
	if n < 0 { // ofSeconds: nanos into 0..999,999,999
		if secs == math.MinInt64 {
			return 0, 0, overflow
		}
		secs, n = secs-1, n+1e9
	}
	if m[1] == "-" { // negated
		if n == 0 {
			if secs == math.MinInt64 {
				return 0, 0, overflow
			}
			secs = -secs
		} else {
			if secs == math.MaxInt64 {
				return 0, 0, overflow
			}
			secs, n = -secs-1, 1e9-n
		}
	}
	return secs, int32(n), nil
}

// formatDuration is java.time.Duration.toString: hours, minutes and seconds, never days
// ("PT49H30M0.25S", "PT-0.5S", "PT0S").
func formatDuration(seconds int64, nanos int32) string {
	if seconds == 0 && nanos == 0 {
		return "PT0S"
	}
	effective := seconds
	if seconds < 0 && nanos > 0 {
		effective++
	}
	hours, minutes, secs := effective/3600, effective%3600/60, effective%60
	var b strings.Builder
	b.WriteString("PT")
	if hours != 0 {
		fmt.Fprintf(&b, "%dH", hours)
	}
	if minutes != 0 {
		fmt.Fprintf(&b, "%dM", minutes)
	}
	if secs == 0 && nanos == 0 && b.Len() > 2 {
		return b.String()
	}
	if seconds < 0 && nanos > 0 && secs == 0 {
		b.WriteString("-0")
	} else {
		fmt.Fprintf(&b, "%d", secs)
	}
	if nanos > 0 {
		frac := int64(nanos)
		if seconds < 0 {
			frac = 1e9 - frac
		}
		b.WriteString(strings.TrimRight(fmt.Sprintf(".%09d", frac), "0"))
	}
	b.WriteByte('S')
	return b.String()
}

// parsePeriod follows java.time.Period.parse: years, months, weeks and days are each signed,
// weeks count as seven days, and a leading '-' negates the whole.
func parsePeriod(s string) (years, months, days int32, err error) {
	m := periodSyntax.FindStringSubmatch(s)
	if m == nil || m[2] == "" && m[3] == "" && m[4] == "" && m[5] == "" {
		return 0, 0, 0, fmt.Errorf("%q is not an ISO 8601 period (PnYnMnWnD)", s)
	}
	overflow := fmt.Errorf("%q is out of java.time.Period's range", s)
	var parts [4]int64
	for i := range parts {
		n, err := signedPart(m[i+2], 32)
		if err != nil {
			return 0, 0, 0, overflow
		}
		if m[1] == "-" {
			if n == math.MinInt32 {
				return 0, 0, 0, overflow
			}
			n = -n
		}
		parts[i] = n
	}
	d := parts[3] + 7*parts[2]
	if d < math.MinInt32 || d > math.MaxInt32 {
		return 0, 0, 0, overflow
	}
	return int32(parts[0]), int32(parts[1]), int32(d), nil
}

// formatPeriod is java.time.Period.toString ("P1Y2M3D", "P0D").
func formatPeriod(years, months, days int32) string {
	if years == 0 && months == 0 && days == 0 {
		return "P0D"
	}
	var b strings.Builder
	b.WriteByte('P')
	for _, p := range []struct {
		n    int32
		unit byte
	}{{years, 'Y'}, {months, 'M'}, {days, 'D'}} {
		if p.n != 0 {
			fmt.Fprintf(&b, "%d%c", p.n, p.unit)
		}
	}
	return b.String()
}

func mulExact(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	return c, c/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
}

func addExact(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) == (b > 0)
}
