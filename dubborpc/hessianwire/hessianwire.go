// Package hessianwire appends hessian2 values to byte slices: the bytes dubbo-go-hessian2
// v1.12.5's Encoder writes for the same Go values (its encInt32, encInt64, encFloat,
// encString, encBinary, encBool, encDateInMs and map framing, ported), without an Encoder, a
// reflection pass or a boxed value per call. The differential tests and fuzz targets of this
// package hold the two byte for byte.
package hessianwire

import (
	"encoding/binary"
	"math"
	"time"
	"unicode/utf8"
)

// The hessian2 tags used here, as dubbo-go-hessian2's const.go names them.
const (
	tagNull      = 'N'
	tagTrue      = 'T'
	tagFalse     = 'F'
	tagMap       = 'H' // untyped map
	tagEnd       = 'Z'
	tagDate      = 0x4a
	tagInt       = 'I'
	intZero      = 0x90
	intByteZero  = 0xc8
	intShortZero = 0xd4
	tagLong      = 'L'
	longZero     = 0xe0
	longByteZero = 0xf8
	longShort    = 0x3c
	longInt      = 0x59
	tagDouble    = 'D'
	doubleZero   = 0x5b
	doubleOne    = 0x5c
	doubleByte   = 0x5d
	doubleShort  = 0x5e
	strChunk     = 'R'
	strFinal     = 'S'
	strShort     = 0x30
	binChunk     = 'A'
	binFinal     = 'B'
	binDirect    = 0x20
	binShort     = 0x34
	// chunkSize is dubbo-go-hessian2's CHUNK_SIZE: string chunks count UTF-16 units, binary
	// chunks bytes.
	chunkSize = 4096
)

// AppendNull appends null.
func AppendNull(b []byte) []byte { return append(b, tagNull) }

// AppendBool appends a boolean.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, tagTrue)
	}
	return append(b, tagFalse)
}

// AppendInt32 appends a hessian2 int (Java int), in its shortest form.
func AppendInt32(b []byte, v int32) []byte {
	switch {
	case -0x10 <= v && v <= 0x2f:
		return append(b, byte(v+intZero))
	case -0x800 <= v && v <= 0x7ff:
		return append(b, byte(intByteZero+v>>8), byte(v))
	case -0x40000 <= v && v <= 0x3ffff:
		return append(b, byte(v>>16+intShortZero), byte(v>>8), byte(v))
	}
	return binary.BigEndian.AppendUint32(append(b, tagInt), uint32(v))
}

// AppendInt64 appends a hessian2 long (Java long), in its shortest form.
func AppendInt64(b []byte, v int64) []byte {
	switch {
	case -0x08 <= v && v <= 0x0f:
		return append(b, byte(v+longZero))
	case -0x800 <= v && v <= 0x7ff:
		return append(b, byte(longByteZero+(v>>8)), byte(v))
	case -0x40000 <= v && v <= 0x3ffff:
		return append(b, byte(longShort+(v>>16)), byte(v>>8), byte(v))
	case -0x80000000 <= v && v <= 0x7fffffff:
		return binary.BigEndian.AppendUint32(append(b, longInt), uint32(v))
	}
	return binary.BigEndian.AppendUint64(append(b, tagLong), uint64(v))
}

// AppendFloat64 appends a hessian2 double: whole numbers of up to 16 bits in the short forms,
// anything else as 8 bytes (dubbo-go-hessian2 never writes the 32-bit "mill" form for a
// float64).
func AppendFloat64(b []byte, v float64) []byte {
	if float64(int64(v)) == v {
		switch iv := int64(v); {
		case iv == 0:
			return append(b, doubleZero)
		case iv == 1:
			return append(b, doubleOne)
		case iv >= -0x80 && iv < 0x80:
			return append(b, doubleByte, byte(iv))
		case iv >= -0x8000 && iv < 0x8000:
			return append(b, doubleShort, byte(iv>>8), byte(iv))
		}
	}
	return binary.BigEndian.AppendUint64(append(b, tagDouble), math.Float64bits(v))
}

// AppendDate appends a java.util.Date (milliseconds since the epoch); the zero time is null.
func AppendDate(b []byte, t time.Time) []byte {
	if t == (time.Time{}) {
		return append(b, tagNull)
	}
	return binary.BigEndian.AppendUint64(append(b, tagDate), uint64(t.UnixMilli()))
}

// AppendBinary appends a byte[] in chunks of 4,096 bytes; nil is null.
func AppendBinary(b []byte, v []byte) []byte {
	if v == nil {
		return append(b, tagNull)
	}
	for {
		n := len(v)
		switch {
		case n > chunkSize:
			n = chunkSize
			b = append(b, binChunk, byte(n>>8), byte(n))
		case n <= 0x0f:
			b = append(b, byte(binDirect+n))
		case n <= 0x3ff:
			b = append(b, byte(binShort+n>>8), byte(n))
		default:
			b = append(b, binFinal, byte(n>>8), byte(n))
		}
		b = append(b, v[:n]...)
		v = v[n:]
		if len(v) == 0 {
			return b
		}
	}
}

// AppendString appends a string. hessian2 counts a string's length in UTF-16 units and
// writes characters outside the Basic Multilingual Plane as two 3-byte surrogate sequences
// (CESU-8), in chunks of 4,096 units (a surrogate pair may end one at 4,097); bytes that are
// not UTF-8 become U+FFFD, as dubbo-go-hessian2 reads them.
func AppendString(b []byte, s string) []byte {
	if s == "" {
		return append(b, 0x00)
	}
	for len(s) > 0 {
		// The chunk: units counted until chunkSize is reached or the string ends.
		units, end, ascii := 0, 0, true
		for end < len(s) && units < chunkSize {
			if c := s[end]; c < utf8.RuneSelf {
				units++
				end++
				continue
			}
			ascii = false
			r, size := utf8.DecodeRuneInString(s[end:])
			if r >= 0x10000 {
				units += 2
			} else {
				units++
			}
			end += size
		}
		switch {
		case end < len(s) && units >= chunkSize:
			b = append(b, strChunk, byte(units>>8), byte(units))
		case units <= 0x1f:
			b = append(b, byte(units))
		case units <= 0x3ff:
			b = append(b, byte(strShort+units>>8), byte(units))
		default:
			b = append(b, strFinal, byte(units>>8), byte(units))
		}
		if ascii {
			b = append(b, s[:end]...)
		} else {
			b = appendCESU8(b, s[:end])
		}
		s = s[end:]
	}
	return b
}

// appendCESU8 appends s with characters above U+FFFF as surrogate pairs, each half a 3-byte
// sequence, and invalid bytes as U+FFFD.
func appendCESU8(b []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			t := uint32(r) - 0x10000
			b = appendUnit(b, t>>10+0xd800)
			b = appendUnit(b, t&0x3ff+0xdc00)
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// appendUnit appends one UTF-16 unit (a surrogate half) as its 3-byte sequence.
func appendUnit(b []byte, u uint32) []byte {
	return append(b, byte(0xe0+(u>>12)&0x0f), byte(0x80+(u>>6)&0x3f), byte(0x80+u&0x3f))
}

// AppendStringMap appends an untyped map of strings (Dubbo's attachments), its entries in
// the map's iteration order, as dubbo-go-hessian2 does.
func AppendStringMap(b []byte, m map[string]string) []byte {
	b = append(b, tagMap)
	for k, v := range m {
		b = AppendString(AppendString(b, k), v)
	}
	return append(b, tagEnd)
}
