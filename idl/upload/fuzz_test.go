package upload

import (
	"bytes"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// FuzzUnpack feeds arbitrary bytes as a zip archive. Unpack must never panic, and whatever it
// accepts must be clean relative paths within the limits.
func FuzzUnpack(f *testing.F) {
	f.Add(makeZip(f, entry{name: "a/b.proto", body: []byte("syntax = \"proto3\";")}, entry{name: "c.proto", body: []byte("x")}))
	f.Add(makeZip(f, entry{name: "../../evil", body: []byte("x")}))
	f.Add(makeZip(f, entry{name: "/abs", body: []byte("x")}))
	f.Add(makeZip(f, entry{name: `a\..\b`, body: []byte("x")}))
	f.Add(makeZip(f, entry{name: "link", body: []byte("/etc"), mode: fs.ModeSymlink | 0o777}))
	f.Add(makeZip(f, entry{name: "zeros", body: make([]byte, 64<<10)}))
	f.Add(makeZip(f, entry{name: "d/"}, entry{name: "d/./e/../f", body: []byte("x")}))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte{})
	limits := Limits{MaxUploadBytes: 1 << 20, MaxTotalBytes: 4 << 20, MaxFiles: 64, MaxDepth: 4, MaxRatio: 50, RatioFloorBytes: 16 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := Unpack(bytes.NewReader(data), Zip(), limits)
		if err != nil {
			if !IsClientError(err) {
				t.Fatalf("error of an unexpected type: %T %v", err, err)
			}
			return
		}
		if len(files) > limits.MaxFiles {
			t.Fatalf("%d files > MaxFiles", len(files))
		}
		var total int64
		for name, body := range files {
			total += int64(len(body))
			if name == "" || path.IsAbs(name) || path.Clean(name) != name || strings.Contains(name, `\`) ||
				name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") {
				t.Fatalf("escaping or unclean path %q", name)
			}
			if strings.Count(name, "/") > limits.MaxDepth {
				t.Fatalf("%q deeper than MaxDepth", name)
			}
		}
		if total > limits.MaxTotalBytes {
			t.Fatalf("total %d > MaxTotalBytes", total)
		}
	})
}
