package grpcjson

import (
	"errors"
	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/rpcbridge/rpcbridge/dataplane/protojsonwire"
)

// codecs compiles the protojsonwire codecs of a transcoder's messages, once per message type.
// The fast path transcodes JSON straight to and from the wire format; a type it does not
// cover has no codec and keeps the dynamicpb/protojson path, and so does any input the fast
// path hands back (protojsonwire.ErrFallback), so that answers and errors never differ.
type codecs struct {
	opts    protojsonwire.Options
	enabled bool
	byName  map[protoreflect.FullName]*protojsonwire.Codec
}

// codec returns md's codec, or nil when md goes through protojson.
func (c *codecs) codec(md protoreflect.MessageDescriptor) *protojsonwire.Codec {
	if !c.enabled || md.FullName() == httpBodyName {
		return nil
	}
	if codec, ok := c.byName[md.FullName()]; ok {
		return codec
	}
	codec := protojsonwire.For(md, c.opts)
	c.byName[md.FullName()] = codec
	return codec
}

// attach gives a binding the codecs of its request (for bodies that fill the whole message),
// of the message holding its body field, and of its response (rendered whole).
func (c *codecs) attach(b *Binding) {
	if b.Body == "*" {
		b.reqCodec = c.codec(b.Method.Input())
	}
	if len(b.bodyPath) > 0 {
		leaf := b.bodyPath[len(b.bodyPath)-1]
		if leaf.Message() == nil || leaf.Message().FullName() != httpBodyName {
			b.bodyCodec = c.codec(leaf.ContainingMessage())
		}
	}
	if b.respField == nil {
		b.respCodec = c.codec(b.Method.Output())
	}
	// A message field outside oneofs: inside one, another member between two occurrences
	// would reset it, which concatenating the occurrences does not do.
	if fd := b.respField; fd != nil && fd.Message() != nil && !fd.IsList() && !fd.IsMap() &&
		(fd.ContainingOneof() == nil || fd.ContainingOneof().IsSynthetic()) {
		if whole := c.codec(b.Method.Output()); whole != nil {
			b.respCheck, b.respCodec = whole, c.codec(fd.Message())
		}
	}
}

// fastEncode encodes a JSON body that fills the whole request message, when the fast path takes
// it.
func fastEncode(b *Binding, body []byte) ([]byte, bool) {
	if b.reqCodec == nil {
		return nil, false
	}
	out, err := b.reqCodec.Encode(nil, body)
	return out, err == nil
}

// fastRender appends to dst the JSON of a whole response message, or of its response_body
// message field, when the fast path takes it.
func fastRender(dst []byte, b *Binding, raw []byte) ([]byte, bool) {
	if b.respCodec == nil {
		return nil, false
	}
	if b.respCheck != nil {
		return fastRenderField(dst, b, raw)
	}
	out, err := b.respCodec.Decode(dst, raw)
	return out, err == nil
}

// fastRenderField renders the response_body message field of a response. The whole response
// is decoded first, into dst's buffer and thrown away, only to refuse what the dynamicpb path's
// proto.Unmarshal would refuse; then the field's occurrences, whose concatenation is the
// merged message proto.Unmarshal makes of them, are rendered as that message.
func fastRenderField(dst []byte, b *Binding, raw []byte) ([]byte, bool) {
	if _, err := b.respCheck.Decode(dst, raw); err != nil {
		return nil, false
	}
	sub, ok := fieldBytes(raw, b.respField.Number())
	if !ok {
		return nil, false
	}
	out, err := b.respCodec.Decode(dst, sub)
	return out, err == nil
}

// fieldBytes returns the payloads of the length-delimited field num of the message raw, one
// after the other: the field's payload itself when it occurs once, else a copy of them.
func fieldBytes(raw []byte, num protowire.Number) ([]byte, bool) {
	var first, buf []byte
	count := 0
	for len(raw) > 0 {
		n, typ, tagLen := protowire.ConsumeTag(raw)
		if tagLen < 0 {
			return nil, false
		}
		valLen := protowire.ConsumeFieldValue(n, typ, raw[tagLen:])
		if valLen < 0 {
			return nil, false
		}
		if n == num && typ == protowire.BytesType {
			payload, _ := protowire.ConsumeBytes(raw[tagLen:])
			switch count {
			case 0:
				first = payload
			case 1:
				buf = append(append(buf, first...), payload...)
			default:
				buf = append(buf, payload...)
			}
			count++
		}
		raw = raw[tagLen+valLen:]
	}
	if count > 1 {
		return buf, true
	}
	return first, true
}

// maxPooledBody bounds the response buffers kept for reuse: a rare large response does not pin
// its buffer.
const maxPooledBody = 64 << 10

// bodyPool holds response body buffers (*[]byte) between unary responses: a body is rendered
// into one, written, and the buffer goes back (io.Writer implementations do not retain what
// they are given).
type bodyPool struct{ pool sync.Pool }

func (p *bodyPool) get() *[]byte {
	if buf, ok := p.pool.Get().(*[]byte); ok {
		return buf
	}
	buf := make([]byte, 0, 1024)
	return &buf
}

func (p *bodyPool) put(buf *[]byte, used []byte) {
	if cap(used) > maxPooledBody {
		return
	}
	*buf = used[:0]
	p.pool.Put(buf)
}

// errDecodePanic is what a panic of proto.Unmarshal on a malformed response becomes.
var errDecodePanic = errors.New("malformed message")

// safeUnmarshal runs proto.Unmarshal into a dynamicpb message, turning its panics on some
// malformed map entries (found by FuzzDecodeMatchesProtojson) into an error.
func safeUnmarshal(name protoreflect.FullName, unmarshal func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoding %s: %w: %v", name, errDecodePanic, p)
		}
	}()
	return unmarshal()
}
