package controlplane

import (
	"bytes"
	"errors"
	"hash/maphash"
	"sync"
	"unicode/utf8"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// resourceNamesField is DiscoveryRequest.resource_names.
const resourceNamesField protowire.Number = 3

// maxSharedLists bounds requestCodec.lists; it is cleared when full.
const maxSharedLists = 64

// requestCodec is the xDS server's gRPC codec: protobuf, except that the resource names of a
// state-of-the-world request are decoded once per distinct list and shared. Every ACK repeats a
// stream's whole subscription, and proxies of a fleet subscribe to the same names, so with
// 10,000 services decoding those strings (one allocation each) was most of the server's CPU per
// change (docs/benchmarks.md). A list is recognised by its wire bytes (hashed, then compared);
// the shared slice is only read. Everything else is the standard codec's.
type requestCodec struct {
	encoding.CodecV2
	seed maphash.Seed

	mu    sync.Mutex
	lists map[uint64]sharedList
}

// sharedList is a decoded list of names and the wire bytes it came from.
type sharedList struct {
	wire  []byte
	names []string
}

func newRequestCodec() *requestCodec {
	return &requestCodec{CodecV2: encoding.GetCodecV2(protoenc.Name), seed: maphash.MakeSeed(), lists: map[uint64]sharedList{}}
}

// Unmarshal implements encoding.CodecV2.
func (c *requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	req, ok := v.(*discoveryv3.DiscoveryRequest)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	rest, names, err := splitNames(buf.ReadOnlyData())
	if err != nil {
		return err
	}
	if err := proto.Unmarshal(rest, req); err != nil {
		return err
	}
	if len(names) > 0 {
		if req.ResourceNames, err = c.names(names); err != nil {
			return err
		}
	}
	return nil
}

// splitNames separates the resource_names fields of a wire-form DiscoveryRequest (names, in
// order) from the rest. Encoders write fields in number order, so the names are one run of
// bytes, returned without copying (names aliases b); a request whose names are interleaved with
// other fields is copied apart.
func splitNames(b []byte) (rest, names []byte, err error) {
	first, end, contiguous := -1, -1, true
	for i := 0; i < len(b); {
		num, typ, n := protowire.ConsumeTag(b[i:])
		if n < 0 {
			return nil, nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[i+n:])
		if m < 0 {
			return nil, nil, protowire.ParseError(m)
		}
		if num == resourceNamesField && typ == protowire.BytesType {
			if first < 0 {
				first = i
			} else if i != end {
				contiguous = false
			}
			end = i + n + m
		}
		i += n + m
	}
	switch {
	case first < 0:
		return b, nil, nil
	case contiguous:
		rest = make([]byte, 0, len(b)-(end-first))
		return append(append(rest, b[:first]...), b[end:]...), b[first:end], nil
	}
	for i := 0; i < len(b); {
		num, typ, n := protowire.ConsumeTag(b[i:])
		m := protowire.ConsumeFieldValue(num, typ, b[i+n:])
		if num == resourceNamesField && typ == protowire.BytesType {
			names = append(names, b[i:i+n+m]...)
		} else {
			rest = append(rest, b[i:i+n+m]...)
		}
		i += n + m
	}
	return rest, names, nil
}

// names returns the names of the wire-form resource_names fields wire, shared with every
// request that carried the same bytes.
func (c *requestCodec) names(wire []byte) ([]string, error) {
	h := maphash.Bytes(c.seed, wire)
	c.mu.Lock()
	l, ok := c.lists[h]
	c.mu.Unlock()
	if ok && bytes.Equal(l.wire, wire) {
		return l.names, nil
	}
	var names []string
	for b := wire; len(b) > 0; {
		_, _, n := protowire.ConsumeTag(b)
		v, m := protowire.ConsumeBytes(b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if !utf8.Valid(v) {
			return nil, errInvalidUTF8
		}
		names = append(names, string(v))
		b = b[n+m:]
	}
	c.mu.Lock()
	if len(c.lists) >= maxSharedLists {
		clear(c.lists)
	}
	c.lists[h] = sharedList{wire: bytes.Clone(wire), names: names}
	c.mu.Unlock()
	return names, nil
}

// errInvalidUTF8 rejects a resource name that is not UTF-8, as protobuf's own decoding does.
var errInvalidUTF8 = errors.New("controlplane: a resource name is not valid UTF-8")
