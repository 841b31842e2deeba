package upload

import (
	"bytes"
	"io"
	"mime/multipart"
	"strings"
	"testing"
)

// part is one part of a test form; an empty filename makes it a plain field.
type part struct{ field, filename, body string }

// makeForm builds a multipart/form-data body with mime/multipart and returns it with its Kind.
func makeForm(t *testing.T, parts ...part) ([]byte, Kind) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var err error
		var pw io.Writer
		if p.filename == "" {
			pw, err = w.CreateFormField(p.field)
		} else {
			pw, err = w.CreateFormFile(p.field, p.filename)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write([]byte(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), Multipart(w.Boundary())
}

func TestUnpackMultipart(t *testing.T) {
	form, kind := makeForm(t,
		part{field: "comment", body: "not a file"},
		part{field: "f", filename: "greet/v1/greeter.proto", body: "syntax = \"proto3\";"},
		part{field: "f", filename: "./common.proto", body: "x"},
	)
	files, err := Unpack(bytes.NewReader(form), kind, Limits{})
	if err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	if len(files) != 2 || string(files["greet/v1/greeter.proto"]) != "syntax = \"proto3\";" || string(files["common.proto"]) != "x" {
		t.Fatalf("files = %q", files)
	}
}

// TestUnpackMultipartRefusals applies the archive rules to forms: unsafe names, duplicates,
// file/directory clashes, and every limit.
func TestUnpackMultipartRefusals(t *testing.T) {
	unpack := func(limits Limits, parts ...part) error {
		form, kind := makeForm(t, parts...)
		_, err := Unpack(bytes.NewReader(form), kind, limits)
		return err
	}
	f := func(name, body string) part { return part{field: "f", filename: name, body: body} }
	t.Run("unsafe name", func(t *testing.T) { assertUnsafe(t, unpack(Limits{}, f("../evil.proto", "x"))) })
	t.Run("duplicate", func(t *testing.T) { assertUnsafe(t, unpack(Limits{}, f("a.proto", "1"), f("./a.proto", "2"))) })
	t.Run("clash", func(t *testing.T) { assertUnsafe(t, unpack(Limits{}, f("a", "1"), f("a/b.proto", "2"))) })
	t.Run("files", func(t *testing.T) {
		assertLimit(t, unpack(Limits{MaxFiles: 2}, f("a", "1"), f("b", "2"), f("c", "3")), "MaxFiles")
	})
	t.Run("depth", func(t *testing.T) { assertLimit(t, unpack(Limits{MaxDepth: 1}, f("a/b/c.proto", "x")), "MaxDepth") })
	t.Run("total", func(t *testing.T) {
		body := strings.Repeat("x", 600)
		assertLimit(t, unpack(Limits{MaxTotalBytes: 1000}, f("a", body), f("b", body)), "MaxTotalBytes")
	})
	t.Run("upload", func(t *testing.T) {
		assertLimit(t, unpack(Limits{MaxUploadBytes: 100}, f("a", strings.Repeat("x", 200))), "MaxUploadBytes")
	})
	t.Run("no boundary", func(t *testing.T) {
		_, err := Unpack(strings.NewReader("--x\r\n"), Multipart(""), Limits{})
		assertFormat(t, err)
	})
}
