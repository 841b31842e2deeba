package dubbojson

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// A tape is a JSON body parsed into a flat list of nodes over its bytes, in document order,
// without building Go values: the arguments are written to hessian2 straight from it, driven
// by their Java types (stream.go), and only leaves are turned into Go values (a string, a
// json.Number) as the encoder needs them. It accepts exactly the JSON texts that
// encoding/json's Decoder accepts as one value followed by nothing but white space; for
// anything else parseTape fails and the request takes the decoded path (readBody), which
// says what is wrong as it always did.
type tape struct {
	raw   []byte
	nodes []jnode
}

// jnode is one JSON value of a tape. A container's children follow it: an array's items, an
// object's keys and values alternating (keys are string nodes).
type jnode struct {
	kind    byte  // '{', '[', '"', '0' (a number), 't', 'f', 'n'
	escaped bool  // a string with backslash escapes
	start   int32 // a string's content (between the quotes), a number's text: raw[start:end]
	end     int32
	count   int32 // an array's items, an object's members
	next    int32 // the index of the node after this one and its children
}

// maxTapeDepth is encoding/json's nesting limit: deeper bodies take the decoded path (which
// refuses them).
const maxTapeDepth = 10000

var tapes = sync.Pool{New: func() any { return &tape{nodes: make([]jnode, 0, 64)} }}

// parseTape parses raw into a pooled tape (give it back with release); ok is false when raw
// is not one JSON value, or uses what the tape does not carry (an object key with escapes).
func parseTape(raw []byte) (*tape, bool) {
	if len(raw) > 1<<31-1 {
		return nil, false
	}
	t := tapes.Get().(*tape)
	t.raw, t.nodes = raw, t.nodes[:0]
	p := parser{t: t}
	i, ok := p.value(skipSpace(raw, 0), 0)
	if !ok || skipSpace(raw, i) != len(raw) {
		t.release()
		return nil, false
	}
	return t, true
}

// release gives the tape back to the pool; large ones are dropped.
func (t *tape) release() {
	if cap(t.nodes) > 1<<14 {
		return
	}
	t.raw = nil
	tapes.Put(t)
}

type parser struct{ t *tape }

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value parses the value at raw[i:] (white space skipped before it), appending its nodes; it
// returns the index after it.
func (p *parser) value(i, depth int) (int, bool) {
	raw := p.t.raw
	if i >= len(raw) {
		return 0, false
	}
	idx := len(p.t.nodes)
	switch c := raw[i]; c {
	case '{', '[':
		if depth >= maxTapeDepth {
			return 0, false
		}
		p.t.nodes = append(p.t.nodes, jnode{kind: c})
		end, count, ok := p.container(i, c, depth+1)
		if !ok {
			return 0, false
		}
		p.t.nodes[idx].count, p.t.nodes[idx].next = int32(count), int32(len(p.t.nodes))
		return end, true
	case '"':
		end, escaped, ok := scanString(raw, i)
		if !ok {
			return 0, false
		}
		p.t.nodes = append(p.t.nodes, jnode{kind: '"', escaped: escaped, start: int32(i + 1), end: int32(end - 1), next: int32(idx + 1)})
		return end, true
	case 't', 'f', 'n':
		lit := literal(c)
		if !bytes.HasPrefix(raw[i:], lit) {
			return 0, false
		}
		p.t.nodes = append(p.t.nodes, jnode{kind: c, next: int32(idx + 1)})
		return i + len(lit), true
	}
	end, ok := scanNumber(raw, i)
	if !ok {
		return 0, false
	}
	p.t.nodes = append(p.t.nodes, jnode{kind: '0', start: int32(i), end: int32(end), next: int32(idx + 1)})
	return end, true
}

// literal is the JSON literal that starts with c.
func literal(c byte) []byte {
	switch c {
	case 't':
		return []byte("true")
	case 'f':
		return []byte("false")
	}
	return []byte("null")
}

// container parses the members of the object or array opened at raw[i].
func (p *parser) container(i int, open byte, depth int) (end, count int, ok bool) {
	raw := p.t.raw
	closer := byte(']')
	if open == '{' {
		closer = '}'
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == closer {
		return i + 1, 0, true
	}
	for {
		if open == '{' {
			if i >= len(raw) || raw[i] != '"' {
				return 0, 0, false
			}
			if i, ok = p.value(i, depth); !ok || p.t.nodes[len(p.t.nodes)-1].escaped {
				return 0, 0, false
			}
			i = skipSpace(raw, i)
			if i >= len(raw) || raw[i] != ':' {
				return 0, 0, false
			}
			i = skipSpace(raw, i+1)
		}
		if i, ok = p.value(i, depth); !ok {
			return 0, 0, false
		}
		count++
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return 0, 0, false
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case closer:
			return i + 1, count, true
		default:
			return 0, 0, false
		}
	}
}

// scanString checks the string whose quote is at raw[i] as encoding/json does (no control
// characters, only JSON's escapes; the text is UTF-8, checkText has made sure) and returns
// the index after its closing quote.
func scanString(raw []byte, i int) (end int, escaped, ok bool) {
	for i++; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			escaped = true
			if i+1 >= len(raw) {
				return 0, false, false
			}
			i++
			switch raw[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+5 > len(raw) || !isHex4(raw[i+1:i+5]) {
					return 0, false, false
				}
				i += 4
			default:
				return 0, false, false
			}
		}
	}
	return 0, false, false
}

// isHex4 reports whether b is four hex digits.
func isHex4(b []byte) bool {
	for _, c := range b {
		if hexDigit(c) < 0 {
			return false
		}
	}
	return true
}

// hexDigit is the value of hex digit c, -1 for another byte.
func hexDigit(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}

// hexRune is the code unit of the \u escape whose four digits start at s[at]; -1 when s has
// no four hex digits there.
func hexRune(s []byte, at int) rune {
	if at < 0 || at+4 > len(s) || !isHex4(s[at:at+4]) {
		return -1
	}
	return hexDigit(s[at])<<12 | hexDigit(s[at+1])<<8 | hexDigit(s[at+2])<<4 | hexDigit(s[at+3])
}

// scanNumber checks JSON's number grammar at raw[i:] and returns the index after it.
func scanNumber(raw []byte, i int) (int, bool) {
	digits := func(i int) int {
		for i < len(raw) && raw[i] >= '0' && raw[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(raw) && raw[i] == '-' {
		i++
	}
	switch {
	case i < len(raw) && raw[i] == '0':
		i++
	case i < len(raw) && raw[i] >= '1' && raw[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(raw) && raw[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

// leaf is node n as the Go value encoding/json decodes it into (with UseNumber): nil, a bool,
// a json.Number or a string. n must not be a container.
func (t *tape) leaf(n *jnode) any {
	switch n.kind {
	case 't':
		return true
	case 'f':
		return false
	case '0':
		return json.Number(t.raw[n.start:n.end])
	case '"':
		return t.str(n)
	}
	return nil
}

// str is the text of string node n, escapes decoded as encoding/json decodes them (checkText
// has refused unpaired surrogates).
func (t *tape) str(n *jnode) string {
	s := t.raw[n.start:n.end]
	if !n.escaped {
		return string(s)
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		i++
		switch s[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hexRune(s, i+1)
			i += 4
			if utf16.IsSurrogate(r) {
				// A pair, as encoding/json combines it; a lone half (which checkText has
				// refused already) is U+FFFD, as encoding/json makes it.
				r2 := utf8.RuneError
				if i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					r2 = utf16.DecodeRune(r, hexRune(s, i+3))
				}
				if r2 != utf8.RuneError {
					i += 6
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, s[i])
		}
	}
	return string(out)
}

// key is the text of an object key (keys have no escapes: see parseTape).
func (t *tape) key(n *jnode) []byte { return t.raw[n.start:n.end] }

// member returns the value node of the last member named name of the object at idx (the one
// encoding/json keeps), or -1.
func (t *tape) member(idx int, name string) int {
	found := -1
	t.members(idx, func(k, v int) {
		if string(t.key(&t.nodes[k])) == name {
			found = v
		}
	})
	return found
}

// members calls f with the key and value nodes of the object at idx, in document order.
func (t *tape) members(idx int, f func(k, v int)) {
	i := idx + 1
	for range t.nodes[idx].count {
		f(i, i+1)
		i = int(t.nodes[i+1].next)
	}
}

// items calls f with the item nodes of the array at idx, in order.
func (t *tape) items(idx int, f func(n, i int) error) error {
	i := idx + 1
	for n := range int(t.nodes[idx].count) {
		if err := f(n, i); err != nil {
			return err
		}
		i = int(t.nodes[i].next)
	}
	return nil
}

// sortedMembers are the members of the object at idx as encoding/json's map holds them: one
// per key (the last), sorted by key, as key and value node pairs.
func (t *tape) sortedMembers(idx int) [][2]int {
	out := make([][2]int, 0, t.nodes[idx].count)
	t.members(idx, func(k, v int) { out = append(out, [2]int{k, v}) })
	slices.SortStableFunc(out, func(a, b [2]int) int { return bytes.Compare(t.key(&t.nodes[a[0]]), t.key(&t.nodes[b[0]])) })
	uniq := out[:0]
	for i, m := range out {
		if i+1 < len(out) && bytes.Equal(t.key(&t.nodes[m[0]]), t.key(&t.nodes[out[i+1][0]])) {
			continue // a later member has the same key
		}
		uniq = append(uniq, m)
	}
	return uniq
}
