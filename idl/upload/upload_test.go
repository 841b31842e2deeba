package upload

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io/fs"
	"strings"
	"testing"
)

// entry is one file to put into a test archive.
type entry struct {
	name string
	body []byte
	mode fs.FileMode
}

// makeZip builds a real zip archive with archive/zip.
func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		fw, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if e.body == nil {
			continue
		}
		if _, err := fw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUnpackZip(t *testing.T) {
	archive := makeZip(t,
		entry{name: "protos/"},
		entry{name: "protos/greet/v1/greeter.proto", body: []byte("syntax = \"proto3\";")},
		entry{name: "./readme.txt", body: []byte("hi")},
	)
	files, err := Unpack(bytes.NewReader(archive), Zip(), Limits{})
	if err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	if len(files) != 2 || string(files["protos/greet/v1/greeter.proto"]) != "syntax = \"proto3\";" || string(files["readme.txt"]) != "hi" {
		t.Fatalf("files = %q", files)
	}
}

func TestUnpackSingleFile(t *testing.T) {
	files, err := Unpack(strings.NewReader("content"), File("dir/a.proto"), Limits{})
	if err != nil || string(files["dir/a.proto"]) != "content" || len(files) != 1 {
		t.Fatalf("files = %q, err = %v", files, err)
	}
	_, err = Unpack(strings.NewReader("x"), File("../a.proto"), Limits{})
	assertUnsafe(t, err)
	_, err = Unpack(strings.NewReader("12345"), File("a.proto"), Limits{MaxUploadBytes: 4})
	assertLimit(t, err, "MaxUploadBytes")
}

func TestUnpackRefusesUnsafeNames(t *testing.T) {
	for _, name := range []string{
		"/etc/passwd",
		"../escape.proto",
		"a/../../escape.proto",
		"a/../b.proto",
		`a\b.proto`,
		`..\..\evil.proto`,
		"C:/windows/evil.proto",
		"a/\x00.proto",
		".",
		"..",
		"../",
	} {
		t.Run(name, func(t *testing.T) {
			e := entry{name: name, body: []byte("x")}
			if strings.HasSuffix(name, "/") {
				e.body = nil // a directory entry
			}
			_, err := Unpack(bytes.NewReader(makeZip(t, e)), Zip(), Limits{})
			assertUnsafe(t, err)
		})
	}
}

func TestUnpackRefusesSymlinks(t *testing.T) {
	archive := makeZip(t, entry{name: "link.proto", body: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777})
	_, err := Unpack(bytes.NewReader(archive), Zip(), Limits{})
	assertUnsafe(t, err)
}

func TestUnpackRefusesDuplicatesAndClashes(t *testing.T) {
	dup := makeZip(t, entry{name: "a.proto", body: []byte("1")}, entry{name: "./a.proto", body: []byte("2")})
	_, err := Unpack(bytes.NewReader(dup), Zip(), Limits{})
	assertUnsafe(t, err)
	clash := makeZip(t, entry{name: "a", body: []byte("1")}, entry{name: "a/b.proto", body: []byte("2")})
	_, err = Unpack(bytes.NewReader(clash), Zip(), Limits{})
	assertUnsafe(t, err)
}

func TestUnpackLimits(t *testing.T) {
	t.Run("files", func(t *testing.T) {
		archive := makeZip(t, entry{name: "a", body: []byte("1")}, entry{name: "b", body: []byte("2")}, entry{name: "c", body: []byte("3")})
		_, err := Unpack(bytes.NewReader(archive), Zip(), Limits{MaxFiles: 2})
		assertLimit(t, err, "MaxFiles")
	})
	t.Run("depth", func(t *testing.T) {
		archive := makeZip(t, entry{name: "1/2/3/4/x.proto", body: []byte("1")})
		_, err := Unpack(bytes.NewReader(archive), Zip(), Limits{MaxDepth: 3})
		assertLimit(t, err, "MaxDepth")
		if _, err := Unpack(bytes.NewReader(archive), Zip(), Limits{MaxDepth: 4}); err != nil {
			t.Errorf("depth 4 refused at MaxDepth 4: %v", err)
		}
	})
	t.Run("total", func(t *testing.T) {
		body := bytes.Repeat([]byte("abcdefgh"), 100)
		archive := makeZip(t, entry{name: "a", body: body}, entry{name: "b", body: body})
		_, err := Unpack(bytes.NewReader(archive), Zip(), Limits{MaxTotalBytes: 1500})
		assertLimit(t, err, "MaxTotalBytes")
	})
	t.Run("upload", func(t *testing.T) {
		archive := makeZip(t, entry{name: "a", body: []byte("1")})
		_, err := Unpack(bytes.NewReader(archive), Zip(), Limits{MaxUploadBytes: int64(len(archive) - 1)})
		assertLimit(t, err, "MaxUploadBytes")
	})
	t.Run("ratio bomb", func(t *testing.T) {
		archive := makeZip(t, entry{name: "bomb.proto", body: make([]byte, 8<<20)})
		_, err := Unpack(bytes.NewReader(archive), Zip(), Limits{})
		assertLimit(t, err, "MaxRatio")
	})
}

// TestUnpackRefusesLyingHeaders stores an entry whose header claims 10 bytes uncompressed while
// its data inflates to 8 MiB. Whichever check sees it first (the bytes counted against the ratio
// cap, or archive/zip's own check of the declared size), the entry must be refused as the
// uploader's fault and nothing returned.
func TestUnpackRefusesLyingHeaders(t *testing.T) {
	plain := make([]byte, 8<<20)
	var compressed bytes.Buffer
	fw, _ := flate.NewWriter(&compressed, flate.BestCompression)
	_, _ = fw.Write(plain)
	_ = fw.Close()

	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	raw, err := w.CreateRaw(&zip.FileHeader{
		Name:               "liar.proto",
		Method:             zip.Deflate,
		CRC32:              crc32.ChecksumIEEE(plain),
		CompressedSize64:   uint64(compressed.Len()),
		UncompressedSize64: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Write(compressed.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := Unpack(bytes.NewReader(buf.Bytes()), Zip(), Limits{})
	if err == nil || !IsClientError(err) || files != nil {
		t.Fatalf("lying entry accepted: %d files, err %v", len(files), err)
	}
}

func TestUnpackRefusesGarbage(t *testing.T) {
	_, err := Unpack(strings.NewReader("this is not a zip"), Zip(), Limits{})
	var fe *FormatError
	if !errors.As(err, &fe) || !IsClientError(err) {
		t.Fatalf("want *FormatError, got %v", err)
	}
}

func assertUnsafe(t *testing.T, err error) {
	t.Helper()
	var ue *UnsafePathError
	if !errors.As(err, &ue) || !IsClientError(err) {
		t.Fatalf("want *UnsafePathError, got %T %v", err, err)
	}
}

func assertLimit(t *testing.T, err error, limit string) {
	t.Helper()
	var le *LimitError
	if !errors.As(err, &le) || !IsClientError(err) {
		t.Fatalf("want *LimitError, got %T %v", err, err)
	}
	if le.Limit != limit {
		t.Fatalf("limit = %s, want %s (%v)", le.Limit, limit, err)
	}
}
