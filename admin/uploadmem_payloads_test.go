package admin_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// writeZeroBomb writes a zip holding one entry of size zero bytes, deflated at the best
// compression (about 1 MB per GiB), as a decompression bomb.
func writeZeroBomb(b *testing.B, path string, size int64) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	w, err := zw.Create("bomb.proto")
	if err != nil {
		b.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for written := int64(0); written < size; written += int64(len(zeros)) {
		if _, err := w.Write(zeros); err != nil {
			b.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// writeLyingBomb writes a zip whose one entry declares an inflated size within the ratio limit
// (200 times its compressed size) while it inflates to size zero bytes: a reader that trusts the
// declared size, or buffers until the ratio cap, holds about 200 MiB before it fails.
func writeLyingBomb(b *testing.B, path string, size int64) {
	b.Helper()
	var deflated bytes.Buffer
	fw, err := flate.NewWriter(&deflated, flate.BestCompression)
	if err != nil {
		b.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for written := int64(0); written < size; written += int64(len(zeros)) {
		_, _ = fw.Write(zeros)
	}
	if err := fw.Close(); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name: "liar.proto", Method: zip.Deflate,
		CompressedSize64: uint64(deflated.Len()), UncompressedSize64: uint64(deflated.Len()) * 200,
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Write(deflated.Bytes()); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}

// writeDirectoryBomb writes a zip of at most size bytes that is nothing but central-directory
// records (46 bytes and a one-letter name each, about 700,000 in 32 MiB) and the end record: a
// reader that parses the directory before checking the entry count allocates a File per record.
func writeDirectoryBomb(b *testing.B, path string, size int64) {
	b.Helper()
	const recordLen = 46 + 1
	n := (size - 22) / recordLen
	var buf bytes.Buffer
	le := func(v any) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	for range n {
		le(uint32(0x02014b50))            // central directory file header signature
		le([6]uint16{20, 20, 0, 0, 0, 0}) // made by, needed, flags, method, time, date
		le([3]uint32{0, 0, 0})            // CRC-32, compressed and uncompressed size
		le([5]uint16{1, 0, 0, 0, 0})      // name, extra and comment length, disk, internal attrs
		le([2]uint32{0, 0})               // external attrs, local header offset
		buf.WriteByte('a')
	}
	cdSize := buf.Len()
	le(uint32(0x06054b50))                    // end of central directory signature
	le([4]uint16{0, 0, uint16(n), uint16(n)}) // disk numbers, records (mod 65536, as archive/zip compares them)
	le([2]uint32{uint32(cdSize), 0})          // directory size and offset
	le(uint16(0))                             // comment length
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}

// writeBigProto writes a valid proto3 file of about size bytes: a service and 1,000 messages,
// each with a few fields and a long documentation comment, as a large documented API would have.
func writeBigProto(b *testing.B, path string, size int) {
	b.Helper()
	const messages = 1000
	line := "// " + strings.Repeat("documentation ", 5) + "\n"
	perMessage := size / messages
	var buf bytes.Buffer
	buf.WriteString("syntax = \"proto3\";\npackage big.v1;\nservice Big { rpc Get(M0) returns (M0); }\n")
	for i := range messages {
		for n := 0; n < perMessage; n += len(line) {
			buf.WriteString(line)
		}
		fmt.Fprintf(&buf, "message M%d {\n  string name = 1;\n  int64 count = 2;\n  repeated string tags = 3;\n}\n", i)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
}
