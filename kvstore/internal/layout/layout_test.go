package layout

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// mixed returns n bytes that compress partly, like a descriptor set: runs of words with
// random bytes between them.
func mixed(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	words := []string{"google.protobuf.", "FieldDescriptorProto", "TYPE_STRING", "rpcbridge", "message", "optional "}
	var b bytes.Buffer
	for b.Len() < n {
		if r.IntN(3) == 0 {
			b.WriteByte(byte(r.Uint32()))
		} else {
			b.WriteString(words[r.IntN(len(words))])
		}
	}
	return b.Bytes()[:n]
}

func TestEncodeDecode(t *testing.T) {
	opts := Options{InlineMax: 1024, ChunkSize: 4096}
	id := NewWriteID(time.Now())
	for _, tc := range []struct {
		name       string
		value      []byte
		wantChunks int
		wantEnc    string
	}{
		{"empty", nil, 0, Identity},
		{"small", []byte("v1"), 0, Identity},
		{"compressible inline", bytes.Repeat([]byte("a"), 5000), 0, Gzip},
		{"chunked", mixed(40000, 1), -1, Gzip},
		{"incompressible", noise(9000), 3, Identity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, chunks, err := Encode(tc.value, opts, func() string { return id })
			if err != nil {
				t.Fatal(err)
			}
			if h.Encoding != tc.wantEnc {
				t.Errorf("encoding %q, want %q", h.Encoding, tc.wantEnc)
			}
			if tc.wantChunks >= 0 && len(chunks) != tc.wantChunks {
				t.Errorf("%d chunks, want %d", len(chunks), tc.wantChunks)
			}
			if tc.wantChunks < 0 && len(chunks) < 2 {
				t.Errorf("%d chunks, want several", len(chunks))
			}
			if h.Write != id {
				t.Errorf("write ID %q, want %q", h.Write, id)
			}
			for _, c := range chunks {
				if len(c) > opts.ChunkSize {
					t.Errorf("chunk of %d bytes", len(c))
				}
			}
			parsed, err := ParseHead(MarshalHead(h))
			if err != nil {
				t.Fatalf("ParseHead: %v", err)
			}
			got, err := Decode(parsed, chunks)
			if err != nil || !bytes.Equal(got, tc.value) {
				t.Fatalf("Decode: %d bytes, %v; want %d bytes", len(got), err, len(tc.value))
			}
		})
	}
}

func TestDecodeRefusesDamage(t *testing.T) {
	h, chunks, err := Encode(mixed(50000, 3), Options{InlineMax: 100, ChunkSize: 2048}, func() string { return NewWriteID(time.Now()) })
	if err != nil || len(chunks) < 3 {
		t.Fatalf("Encode: %d chunks, %v", len(chunks), err)
	}
	flipped := slices.Clone(chunks)
	flipped[1] = bytes.Clone(chunks[1])
	flipped[1][10] ^= 1
	swapped := slices.Clone(chunks)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	for name, tc := range map[string]struct {
		chunks [][]byte
		want   string
	}{
		"flipped byte":  {flipped, "chunk 2 of"},
		"missing chunk": {chunks[:len(chunks)-1], "chunks"},
		"swapped":       {swapped, "chunk 1 of"},
	} {
		if _, err := Decode(h, tc.chunks); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, tc.want)
		}
	}
	// A head whose checksum does not match its payload.
	small, _, _ := Encode([]byte("hello"), Options{InlineMax: 100}, nil)
	small.SHA256 = strings.Repeat("0", 64)
	if _, err := Decode(small, nil); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("bad checksum: %v", err)
	}
	// A gzip payload that inflates beyond its declared size.
	bomb, _, _ := Encode(bytes.Repeat([]byte("x"), 100000), Options{InlineMax: 1 << 20}, nil)
	bomb.Size = 10
	if _, err := Decode(bomb, nil); err == nil {
		t.Error("an oversized gzip payload decoded")
	}
}

func TestParseHeadForeign(t *testing.T) {
	for _, raw := range []string{"", "hello", `{"kind":"other"}` + "\n", "dubbo://1.2.3.4:20880/x?y=z"} {
		if _, err := ParseHead([]byte(raw)); !errors.Is(err, ErrForeign) {
			t.Errorf("ParseHead(%q) = %v, want ErrForeign", raw, err)
		}
	}
	for _, raw := range []string{
		`{"kind":"rpcbridge.kvstore/v1","size":1,"sha256":"x"}` + "\n",
		`{"kind":"rpcbridge.kvstore/v1","size":1,"encoding":"zstd","sha256":"` + strings.Repeat("a", 64) + `"}` + "\n",
		`{"kind":"rpcbridge.kvstore/v1","size":1,"sha256":"` + strings.Repeat("a", 64) + `","write":"nope","chunks":[{"size":1,"sha256":"` + strings.Repeat("a", 64) + `"}]}` + "\n",
	} {
		if _, err := ParseHead([]byte(raw)); err == nil || errors.Is(err, ErrForeign) {
			t.Errorf("ParseHead(%.60q) = %v, want an inconsistency", raw, err)
		}
	}
}

func TestWriteIDsAndGarbage(t *testing.T) {
	now := time.Now()
	fresh, old := NewWriteID(now), NewWriteID(now.Add(-2*OrphanGrace))
	if tm, ok := WriteTime(fresh); !ok || tm.UnixMilli() != now.UnixMilli() {
		t.Fatalf("WriteTime(%q) = %v, %v", fresh, tm, ok)
	}
	if NewWriteID(now) == fresh {
		t.Error("two write IDs in the same millisecond are equal")
	}
	referencedOld := NewWriteID(now.Add(-2 * OrphanGrace))
	got := Garbage([]string{fresh, old, referencedOld, "not-an-id", "zzz"}, func(id string) bool { return id == referencedOld }, now)
	if len(got) != 1 || got[0] != old {
		t.Errorf("Garbage = %v, want [%s]", got, old)
	}
	if !Expired(old, now) || Expired(fresh, now) {
		t.Error("Expired is wrong")
	}
	w, i, ok := ParseChunkName(ChunkName(fresh, 12))
	if !ok || w != fresh || i != 12 {
		t.Errorf("ParseChunkName = %q %d %v", w, i, ok)
	}
	for _, bad := range []string{fresh, fresh + ".x", fresh + ".01", "x.1"} {
		if _, _, ok := ParseChunkName(bad); ok {
			t.Errorf("ParseChunkName(%q) ok", bad)
		}
	}
	if k, ok := KeyOfFlat(FlatKey("idl/orders/v2")); !ok || k != "idl/orders/v2" {
		t.Errorf("KeyOfFlat = %q %v", k, ok)
	}
	if _, ok := KeyOfFlat("::x"); ok {
		t.Error("KeyOfFlat accepted an invalid key")
	}
}

// noise returns n incompressible bytes.
func noise(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(b)
	return b
}
