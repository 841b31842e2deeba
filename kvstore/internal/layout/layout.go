// Package layout is how the store backends lay values out in systems with small entries: a
// value is compressed when that pays, kept inline in a small head when it fits, and otherwise
// cut into chunks that are written first, under a write ID of their own, and made visible by
// writing the head last. The head carries the value's size and SHA-256 and each chunk's size and
// SHA-256, so a reader can tell a complete value from a damaged one. Values and chunks are
// immutable once written: a new value is a new write ID, and old chunks are deleted only after
// no head names them (or, for a writer that crashed, after OrphanGrace).
//
// The package is pure: it encodes and decodes bytes and names, and the backends store them.
package layout

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/rpcbridge/rpcbridge/kvstore"
)

// Kind marks a head written by rpcbridge; data without it is foreign.
const Kind = "rpcbridge.kvstore/v1"

// The encodings of a head's payload.
const (
	Identity = ""
	Gzip     = "gzip"
)

// compressMin is the smallest value worth trying to compress.
const compressMin = 512

// ErrForeign says that data is not an rpcbridge head at all.
var ErrForeign = errors.New("not an rpcbridge value")

// Options are a backend's limits.
type Options struct {
	// InlineMax is the largest encoded payload kept in the head itself.
	InlineMax int
	// ChunkSize is the largest chunk.
	ChunkSize int
	// Plain keeps the value uncompressed (a local file has no size limit to fit).
	Plain bool
}

// Head describes one stored value.
type Head struct {
	// Kind is the Kind constant.
	Kind string `json:"kind"`
	// Revision is the value's revision, for backends that keep their own counter (local,
	// Nacos); 0 where the backend supplies it.
	Revision int64 `json:"rev,omitempty"`
	// Size is the value's length and SHA256 its hex SHA-256.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Encoding is how the payload (inline or the chunks joined) encodes the value.
	Encoding string `json:"encoding,omitempty"`
	// Write is the write's ID: it names the chunks, and makes every head unique, so that a
	// backend that skips writes of unchanged data (Consul's KV) still gives the write a new
	// revision.
	Write string `json:"write,omitempty"`
	// Chunks are the chunks in order.
	Chunks []Chunk `json:"chunks,omitempty"`
	// Inline is the payload of an inline value. MarshalHead writes it raw after the JSON line;
	// in a JSON document of a backend (the Nacos index) it is base64.
	Inline []byte `json:"inline,omitempty"`
}

// Chunk describes one stored chunk.
type Chunk struct {
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// Encode prepares value for storage: the head, and the chunks to write under head.Write before
// the head (none for an inline value). writeID names the write; nil leaves it unnamed (for a
// backend whose heads carry their own revision, and never chunk).
func Encode(value []byte, opts Options, writeID func() string) (Head, [][]byte, error) {
	sum := sha256.Sum256(value)
	h := Head{Kind: Kind, Size: int64(len(value)), SHA256: hex.EncodeToString(sum[:])}
	if writeID != nil {
		h.Write = writeID()
	}
	payload := value
	if len(value) >= compressMin && !opts.Plain {
		var b bytes.Buffer
		zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		if err != nil {
			return Head{}, nil, err
		}
		if _, err := zw.Write(value); err != nil {
			return Head{}, nil, err
		}
		if err := zw.Close(); err != nil {
			return Head{}, nil, err
		}
		if b.Len() < len(value)-len(value)/10 { // keep it when it saves 10%
			payload, h.Encoding = b.Bytes(), Gzip
		}
	}
	if len(payload) <= opts.InlineMax {
		h.Inline = bytes.Clone(payload)
		return h, nil, nil
	}
	if opts.ChunkSize <= 0 || h.Write == "" {
		return Head{}, nil, fmt.Errorf("layout: a chunked value needs a chunk size (%d) and a write ID", opts.ChunkSize)
	}
	var chunks [][]byte
	for len(payload) > 0 {
		n := min(opts.ChunkSize, len(payload))
		c := payload[:n:n]
		payload = payload[n:]
		cs := sha256.Sum256(c)
		h.Chunks = append(h.Chunks, Chunk{Size: n, SHA256: hex.EncodeToString(cs[:])})
		chunks = append(chunks, c)
	}
	return h, chunks, nil
}

// Decode returns the value of h from its chunks (nil for an inline value), checking every
// size and checksum. Its errors say what is wrong, for a kvstore.CorruptError's reason.
func Decode(h Head, chunks [][]byte) ([]byte, error) {
	payload := h.Inline
	if len(h.Chunks) > 0 {
		if len(chunks) != len(h.Chunks) {
			return nil, fmt.Errorf("%d of %d chunks", len(chunks), len(h.Chunks))
		}
		total := 0
		for i, c := range chunks {
			want := h.Chunks[i]
			sum := sha256.Sum256(c)
			if len(c) != want.Size || hex.EncodeToString(sum[:]) != want.SHA256 {
				return nil, fmt.Errorf("chunk %d of %d fails its checksum", i+1, len(h.Chunks))
			}
			total += len(c)
		}
		payload = make([]byte, 0, total)
		for _, c := range chunks {
			payload = append(payload, c...)
		}
	}
	value := payload
	if h.Encoding == Gzip {
		zr, err := gzip.NewReader(bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("gzip payload: %w", err)
		}
		value = make([]byte, 0, h.Size)
		buf := bytes.NewBuffer(value)
		// One byte more than the head claims tells an oversized payload from a right one.
		if _, err := io.Copy(buf, io.LimitReader(zr, h.Size+1)); err != nil {
			return nil, fmt.Errorf("gzip payload: %w", err)
		}
		value = buf.Bytes()
	}
	sum := sha256.Sum256(value)
	if int64(len(value)) != h.Size || hex.EncodeToString(sum[:]) != h.SHA256 {
		return nil, fmt.Errorf("the value fails its checksum (%d bytes, head says %d)", len(value), h.Size)
	}
	return value, nil
}

// MarshalHead renders h for a backend that stores bytes (a ZooKeeper node, a Consul key, a
// local file): one JSON line, then the inline payload raw.
func MarshalHead(h Head) []byte {
	inline := h.Inline
	h.Inline = nil
	line, err := json.Marshal(h)
	if err != nil {
		panic(fmt.Sprintf("layout: marshal head: %v", err)) // only strings, ints and slices
	}
	out := make([]byte, 0, len(line)+1+len(inline))
	out = append(append(line, '\n'), inline...)
	return out
}

// ParseHead reads what MarshalHead wrote. Data that is not an rpcbridge head gives an error
// wrapping ErrForeign; a head that is ours but inconsistent gives another error.
func ParseHead(raw []byte) (Head, error) {
	line, inline, found := bytes.Cut(raw, []byte{'\n'})
	var h Head
	if !found || json.Unmarshal(line, &h) != nil || h.Kind != Kind {
		return Head{}, ErrForeign
	}
	if len(h.Inline) > 0 {
		return Head{}, errors.New("head carries its payload twice")
	}
	h.Inline = bytes.Clone(inline)
	return h, h.Check()
}

// Check reports an inconsistent head: an unknown encoding, a size out of range, chunks without
// a valid write ID, or both chunks and an inline payload.
func (h Head) Check() error {
	switch {
	case h.Kind != Kind:
		return ErrForeign
	case h.Encoding != Identity && h.Encoding != Gzip:
		return fmt.Errorf("unknown encoding %q", h.Encoding)
	case h.Size < 0 || h.Size > kvstore.MaxValueSize:
		return fmt.Errorf("size %d out of range", h.Size)
	case len(h.SHA256) != sha256.Size*2:
		return errors.New("no checksum")
	case len(h.Chunks) > 0 && len(h.Inline) > 0:
		return errors.New("both chunks and an inline payload")
	case len(h.Chunks) > 0 && !ValidWriteID(h.Write):
		return fmt.Errorf("chunks under an invalid write ID %q", h.Write)
	}
	var total int64
	for i, c := range h.Chunks {
		if c.Size <= 0 || len(c.SHA256) != sha256.Size*2 {
			return fmt.Errorf("chunk %d of %d is described wrongly", i+1, len(h.Chunks))
		}
		total += int64(c.Size)
	}
	if total > 2*kvstore.MaxValueSize {
		return fmt.Errorf("chunks of %d bytes in all", total)
	}
	return nil
}

// MissingChunk is the error for a chunk that a head names and the backend does not have.
func MissingChunk(i, n int) error { return fmt.Errorf("chunk %d of %d is missing", i+1, n) }
