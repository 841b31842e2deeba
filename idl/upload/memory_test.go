package upload

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
)

// slack is what unpacking may allocate beyond the content it returns: the in-memory part of the
// spool (up to 256 KiB, grown in steps), the zip reader's directory and inflaters, error values.
const slack = 1 << 20

// allocatedBy returns the bytes the Go heap allocated while f ran (tests in this package do not
// run in parallel, so nothing else allocates meanwhile).
func allocatedBy(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// deflated is data compressed as a zip's Deflate method stores it.
func deflated(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawZip builds an archive with one entry whose header says what h says, whatever raw holds.
func rawZip(t testing.TB, h *zip.FileHeader, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	fw, err := w.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRefusedArchivesAllocateNothingForTheirContent unpacks archives that are refused only once
// their entries are inflated or checked, and requires that refusing them cost no buffer for
// what they inflate to.
func TestRefusedArchivesAllocateNothingForTheirContent(t *testing.T) {
	zeros := make([]byte, 16<<20)
	packed := deflated(t, zeros)
	text := bytes.Repeat([]byte("message M { string s = 1; }\n"), 4<<20/28)
	cases := []struct {
		name    string
		archive []byte
		check   func(t *testing.T, err error)
	}{
		{
			// 16 MiB of zeros in about 16 KB: beyond the ratio cap as declared.
			name:    "bomb",
			archive: makeZip(t, entry{name: "bomb.proto", body: zeros}),
			check:   func(t *testing.T, err error) { assertLimit(t, err, "MaxRatio") },
		},
		{
			// Declares exactly its ratio cap, inflates to 16 MiB.
			name: "lying bomb",
			archive: rawZip(t, &zip.FileHeader{Name: "liar.proto", Method: zip.Deflate,
				CompressedSize64: uint64(len(packed)), UncompressedSize64: uint64(len(packed)) * 200}, packed),
			check: assertFormat,
		},
		{
			// 4 MiB stored as declared, with a wrong CRC-32 that only the end of the entry shows.
			name: "bad checksum",
			archive: rawZip(t, &zip.FileHeader{Name: "a.proto", Method: zip.Store, CRC32: crc32.ChecksumIEEE(text) + 1,
				CompressedSize64: uint64(len(text)), UncompressedSize64: uint64(len(text))}, text),
			check: assertFormat,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			alloc := allocatedBy(func() { _, err = Unpack(bytes.NewReader(c.archive), Zip(), Limits{}) })
			c.check(t, err)
			if alloc > slack {
				t.Fatalf("refusing a %d-byte archive allocated %d bytes, want at most %d", len(c.archive), alloc, slack)
			}
		})
	}
}

// TestUnpackAllocatesAboutTheContent unpacks a valid archive and a single file and requires the
// allocations to stay within their content plus slack: buffers are sized from verified sizes,
// never grown by doubling, and the upload itself is spooled rather than held.
func TestUnpackAllocatesAboutTheContent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	body := make([]byte, 2<<20)
	for i := range body {
		body[i] = 'a' + byte(rng.IntN(26)) // compresses far less than MaxRatio
	}
	var entries []entry
	for _, n := range []string{"a.proto", "b.proto", "c.proto", "d.proto"} {
		entries = append(entries, entry{name: n, body: body})
	}
	archive := makeZip(t, entries...)
	var files map[string][]byte
	var err error
	alloc := allocatedBy(func() { files, err = Unpack(bytes.NewReader(archive), Zip(), Limits{}) })
	if err != nil || len(files) != 4 || !bytes.Equal(files["d.proto"], body) {
		t.Fatalf("Unpack: %d files, err %v", len(files), err)
	}
	if content := uint64(4 * len(body)); alloc > content+slack {
		t.Errorf("unpacking %d bytes of content allocated %d bytes, want at most %d", content, alloc, content+slack)
	}

	single := bytes.Repeat([]byte("x"), 8<<20)
	alloc = allocatedBy(func() { files, err = Unpack(bytes.NewReader(single), File("big.proto"), Limits{}) })
	if err != nil || len(files["big.proto"]) != len(single) {
		t.Fatalf("Unpack single file: err %v", err)
	}
	if alloc > uint64(len(single))+slack {
		t.Errorf("a single %d-byte file allocated %d bytes, want at most %d", len(single), alloc, len(single)+slack)
	}
}

// TestOversizedUploadAllocatesLittle sends more than MaxUploadBytes through a plain reader: the
// upload is refused after MaxUploadBytes+1 bytes without having been held in memory.
func TestOversizedUploadAllocatesLittle(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var err error
	alloc := allocatedBy(func() {
		_, err = Unpack(io.LimitReader(zeroReader{}, 40<<20), File("a.proto"), Limits{})
	})
	assertLimit(t, err, "MaxUploadBytes")
	if alloc > slack {
		t.Errorf("refusing a 40 MiB upload allocated %d bytes, want at most %d", alloc, slack)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the spool left %d files in $TMPDIR", len(left))
	}
}

// TestSpoolFileIsRemoved unpacks an upload large enough to be spooled to disk and checks that the
// temporary file is gone afterwards, after success and after a refusal.
func TestSpoolFileIsRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	big := bytes.Repeat([]byte("y"), 2<<20)
	if files, err := Unpack(bytes.NewReader(big), File("a.proto"), Limits{}); err != nil || len(files["a.proto"]) != len(big) {
		t.Fatalf("Unpack: err %v", err)
	}
	if _, err := Unpack(bytes.NewReader(big), Zip(), Limits{}); err == nil {
		t.Fatal("a non-zip accepted as a zip")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the spool left %d files in $TMPDIR", len(left))
	}
}

// TestUnpackRefusesDirectoryBombs feeds archives made only of central-directory records, which
// archive/zip would hold in memory all at once before any entry is looked at.
func TestUnpackRefusesDirectoryBombs(t *testing.T) {
	bomb := directoryRecords(30_000)
	var err error
	alloc := allocatedBy(func() { _, err = Unpack(bytes.NewReader(bomb), Zip(), Limits{}) })
	assertLimit(t, err, "MaxEntries")
	if alloc > slack {
		t.Errorf("refusing 30,000 directory records allocated %d bytes, want at most %d", alloc, slack)
	}
	_, err = Unpack(bytes.NewReader(directoryRecords(101)), Zip(), Limits{MaxEntries: 100})
	assertLimit(t, err, "MaxEntries")
	dirs := []entry{{name: "a/"}, {name: "b/"}, {name: "c/"}, {name: "a/x.proto", body: []byte("x")}}
	if _, err := Unpack(bytes.NewReader(makeZip(t, dirs...)), Zip(), Limits{MaxEntries: 3}); err == nil {
		t.Error("directories must count as entries: 4 entries accepted at MaxEntries 3")
	}
	if _, err := Unpack(bytes.NewReader(makeZip(t, dirs...)), Zip(), Limits{MaxEntries: 4}); err != nil {
		t.Errorf("4 entries refused at MaxEntries 4: %v", err)
	}
}

// directoryRecords is a zip of n central-directory records named "a" and nothing else.
func directoryRecords(n int) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	for range n {
		le(uint32(0x02014b50))
		le([6]uint16{20, 20, 0, 0, 0, 0})
		le([3]uint32{0, 0, 0})
		le([5]uint16{1, 0, 0, 0, 0})
		le([2]uint32{0, 0})
		b.WriteByte('a')
	}
	size := b.Len()
	le(uint32(0x06054b50))
	le([4]uint16{0, 0, uint16(n), uint16(n)})
	le([2]uint32{uint32(size), 0})
	le(uint16(0))
	return b.Bytes()
}

// zeroReader reads zeros forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func assertFormat(t *testing.T, err error) {
	t.Helper()
	if _, ok := err.(*FormatError); !ok || !IsClientError(err) {
		t.Fatalf("want *FormatError, got %T %v", err, err)
	}
}
