// Package classfile reads compiled Java API classes (the .class entries of an API jar) into the
// declarations rpcbridge needs: interfaces with their method signatures, DTO classes with their
// serialized fields, enums with their constants. Generic types come from the Signature
// attribute, parameter names from MethodParameters (present when the API was compiled with
// "javac -parameters"; otherwise names stay empty). Errors name the class and the member.
package classfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Access flags used by the reader (JVMS §4.1, §4.5, §4.6).
const (
	accPublic     = 0x0001
	accPrivate    = 0x0002
	accStatic     = 0x0008
	accBridge     = 0x0040
	accTransient  = 0x0080
	accVarargs    = 0x0080
	accInterface  = 0x0200
	accAbstract   = 0x0400
	accSynthetic  = 0x1000
	accAnnotation = 0x2000
	accEnum       = 0x4000
	accModule     = 0x8000
)

// Class is what the reader keeps of one class file.
type Class struct {
	// Name is the binary name with dots ("com.foo.Outer$Inner").
	Name       string
	Access     uint16
	Super      string
	Interfaces []string
	// Signature is the generic class signature, or "".
	Signature    string
	Fields       []Member
	Methods      []Member
	InnerClasses []InnerClass
}

// Member is a field or a method.
type Member struct {
	Access     uint16
	Name       string
	Descriptor string
	Signature  string
	// ParamNames holds MethodParameters names ("" for an unnamed entry); nil when absent.
	ParamNames []string
}

// InnerClass is one InnerClasses entry; Outer or Name is "" for local and anonymous classes.
type InnerClass struct {
	Inner, Outer, Name string
	Access             uint16
}

// errTruncated reports a class file that ends early.
var errTruncated = errors.New("truncated class file")

// cpEntry is one constant-pool slot; only the fields the reader needs are kept.
type cpEntry struct {
	tag   byte
	utf8  string
	index uint16 // Class → name index
}

type byteReader struct {
	b   []byte
	off int
	err error
}

func (r *byteReader) take(n int) []byte {
	if r.err != nil || n < 0 || r.off+n > len(r.b) {
		r.err = errTruncated
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *byteReader) u1() byte {
	if s := r.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (r *byteReader) u2() uint16 {
	if s := r.take(2); s != nil {
		return binary.BigEndian.Uint16(s)
	}
	return 0
}

func (r *byteReader) u4() uint32 {
	if s := r.take(4); s != nil {
		return binary.BigEndian.Uint32(s)
	}
	return 0
}

// Read parses one class file.
func Read(data []byte) (*Class, error) {
	r := &byteReader{b: data}
	if r.u4() != 0xCAFEBABE {
		return nil, errors.New("not a class file (bad magic number)")
	}
	r.u2() // minor
	r.u2() // major
	pool, err := readPool(r)
	if err != nil {
		return nil, err
	}
	c := &Class{Access: r.u2()}
	if c.Name, err = pool.className(r.u2()); err != nil {
		return nil, fmt.Errorf("this_class: %w", err)
	}
	if idx := r.u2(); idx != 0 {
		if c.Super, err = pool.className(idx); err != nil {
			return nil, fmt.Errorf("class %s: super_class: %w", c.Name, err)
		}
	}
	for n := r.u2(); n > 0 && r.err == nil; n-- {
		iface, err := pool.className(r.u2())
		if err != nil {
			return nil, fmt.Errorf("class %s: interfaces: %w", c.Name, err)
		}
		c.Interfaces = append(c.Interfaces, iface)
	}
	for _, list := range []*[]Member{&c.Fields, &c.Methods} {
		for n := r.u2(); n > 0 && r.err == nil; n-- {
			m, err := readMember(r, pool)
			if err != nil {
				return nil, fmt.Errorf("class %s: member %s: %w", c.Name, m.Name, err)
			}
			*list = append(*list, m)
		}
	}
	if err := readAttributes(r, pool, func(name string, body *byteReader) error {
		switch name {
		case "Signature":
			s, err := pool.utf8(body.u2())
			c.Signature = s
			return err
		case "InnerClasses":
			return readInnerClasses(body, pool, c)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("class %s: %w", c.Name, err)
	}
	if r.err != nil {
		return nil, fmt.Errorf("class %s: %w", c.Name, r.err)
	}
	return c, nil
}

type constantPool []cpEntry

func readPool(r *byteReader) (constantPool, error) {
	count := int(r.u2())
	pool := make(constantPool, count)
	for i := 1; i < count && r.err == nil; i++ {
		tag := r.u1()
		pool[i].tag = tag
		switch tag {
		case 1: // Utf8
			pool[i].utf8 = decodeModifiedUTF8(r.take(int(r.u2())))
		case 7, 8, 16, 19, 20: // Class, String, MethodType, Module, Package
			pool[i].index = r.u2()
		case 3, 4, 9, 10, 11, 12, 17, 18: // 4-byte constants and references
			r.take(4)
		case 15: // MethodHandle
			r.take(3)
		case 5, 6: // Long, Double take two slots
			r.take(8)
			i++
		default:
			return nil, fmt.Errorf("constant pool entry %d: unknown tag %d", i, tag)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("constant pool: %w", r.err)
	}
	return pool, nil
}

func (p constantPool) utf8(idx uint16) (string, error) {
	if int(idx) >= len(p) || idx == 0 || p[idx].tag != 1 {
		return "", fmt.Errorf("constant pool index %d is not a UTF-8 entry", idx)
	}
	return p[idx].utf8, nil
}

func (p constantPool) className(idx uint16) (string, error) {
	if int(idx) >= len(p) || idx == 0 || p[idx].tag != 7 {
		return "", fmt.Errorf("constant pool index %d is not a class entry", idx)
	}
	name, err := p.utf8(p[idx].index)
	return strings.ReplaceAll(name, "/", "."), err
}

func readMember(r *byteReader, pool constantPool) (Member, error) {
	m := Member{Access: r.u2()}
	var err error
	if m.Name, err = pool.utf8(r.u2()); err != nil {
		return m, fmt.Errorf("name: %w", err)
	}
	if m.Descriptor, err = pool.utf8(r.u2()); err != nil {
		return m, fmt.Errorf("descriptor: %w", err)
	}
	err = readAttributes(r, pool, func(name string, body *byteReader) error {
		switch name {
		case "Signature":
			s, err := pool.utf8(body.u2())
			m.Signature = s
			return err
		case "MethodParameters":
			m.ParamNames = []string{}
			for n := body.u1(); n > 0 && body.err == nil; n-- {
				idx := body.u2()
				body.u2() // flags
				name := ""
				if idx != 0 {
					var err error
					if name, err = pool.utf8(idx); err != nil {
						return fmt.Errorf("MethodParameters: %w", err)
					}
				}
				m.ParamNames = append(m.ParamNames, name)
			}
		}
		return nil
	})
	return m, err
}

func readInnerClasses(body *byteReader, pool constantPool, c *Class) error {
	for n := body.u2(); n > 0 && body.err == nil; n-- {
		var ic InnerClass
		var err error
		if ic.Inner, err = pool.className(body.u2()); err != nil {
			return fmt.Errorf("InnerClasses: %w", err)
		}
		if idx := body.u2(); idx != 0 {
			if ic.Outer, err = pool.className(idx); err != nil {
				return fmt.Errorf("InnerClasses: %w", err)
			}
		}
		if idx := body.u2(); idx != 0 {
			if ic.Name, err = pool.utf8(idx); err != nil {
				return fmt.Errorf("InnerClasses: %w", err)
			}
		}
		ic.Access = body.u2()
		c.InnerClasses = append(c.InnerClasses, ic)
	}
	return nil
}

// readAttributes reads an attribute table, handing each attribute's body to fn.
func readAttributes(r *byteReader, pool constantPool, fn func(name string, body *byteReader) error) error {
	for n := r.u2(); n > 0 && r.err == nil; n-- {
		name, err := pool.utf8(r.u2())
		if err != nil {
			return fmt.Errorf("attribute name: %w", err)
		}
		body := &byteReader{b: r.take(int(r.u4()))}
		if r.err != nil {
			break
		}
		if err := fn(name, body); err != nil {
			return err
		}
		if body.err != nil {
			return fmt.Errorf("attribute %s: %w", name, body.err)
		}
	}
	return r.err
}

// decodeModifiedUTF8 decodes the JVM's modified UTF-8 (NUL as two bytes, supplementary
// characters as surrogate pairs); ASCII, the common case, passes through unchanged.
func decodeModifiedUTF8(b []byte) string {
	ascii := true
	for _, c := range b {
		ascii = ascii && c < 0x80
	}
	if ascii {
		return string(b)
	}
	var units []uint16
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x80:
			units = append(units, uint16(c))
			i++
		case c&0xE0 == 0xC0 && i+1 < len(b):
			units = append(units, uint16(c&0x1F)<<6|uint16(b[i+1]&0x3F))
			i += 2
		case c&0xF0 == 0xE0 && i+2 < len(b):
			units = append(units, uint16(c&0x0F)<<12|uint16(b[i+1]&0x3F)<<6|uint16(b[i+2]&0x3F))
			i += 3
		default:
			units = append(units, 0xFFFD)
			i++
		}
	}
	return string(utf16.Decode(units))
}
