package formdata

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"
)

func TestKindOf(t *testing.T) {
	for ct, want := range map[string]Kind{
		"": JSON, "application/json": JSON, "application/json; charset=utf-8": JSON,
		"application/merge-patch+json": JSON, "application/x-www-form-urlencoded": JSON,
		"multipart/form-data; boundary=x": Multipart, "application/octet-stream": Raw,
		"image/png": Raw, "text/plain": Raw, "not a type/;;": Raw,
	} {
		if got := KindOf(ct); got != want {
			t.Errorf("KindOf(%q) = %d, want %d", ct, got, want)
		}
	}
}

// form builds a multipart/form-data body with mime/multipart's writer, the client side.
func form(t *testing.T, fields map[string]string, file, filename string, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != "" {
		fw, err := w.CreateFormFile(file, filename)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func TestRead(t *testing.T) {
	data := []byte{0, 1, 2, 255, '\r', '\n', '-', '-'}
	ct, body := form(t, map[string]string{"name": "a.bin"}, "data", "a.bin", data)
	parts, err := Read(bytes.NewReader(body), ct)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || parts[0].Name != "name" || string(parts[0].Data) != "a.bin" || parts[0].Filename != "" {
		t.Fatalf("parts = %+v", parts)
	}
	if p := parts[1]; p.Name != "data" || p.Filename != "a.bin" || p.ContentType != "application/octet-stream" || !bytes.Equal(p.Data, data) {
		t.Fatalf("file part = %+v", p)
	}
}

func TestReadMalformed(t *testing.T) {
	ct, body := form(t, map[string]string{"name": "x"}, "", "", nil)
	for name, tc := range map[string]struct{ ct, body string }{
		"no boundary":  {"multipart/form-data", string(body)},
		"bad boundary": {"multipart/form-data; boundary=other", string(body)},
		"truncated":    {ct, string(body[:len(body)-10])},
		"garbage":      {ct, "this is not multipart"},
		"no name":      {"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"},
	} {
		if _, err := Read(strings.NewReader(tc.body), tc.ct); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestReadBodyError(t *testing.T) {
	ct, body := form(t, nil, "data", "big.bin", bytes.Repeat([]byte("x"), 4096))
	_, err := Read(Limit(bytes.NewReader(body), 1000), ct)
	if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrTooLarge (not malformed)", err)
	}
}

func TestLimit(t *testing.T) {
	if b, err := io.ReadAll(Limit(strings.NewReader("12345"), 5)); err != nil || string(b) != "12345" {
		t.Fatalf("at the limit: %q, %v", b, err)
	}
	if _, err := io.ReadAll(Limit(strings.NewReader("123456"), 5)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
}

func TestAttachment(t *testing.T) {
	for in, want := range map[string]string{
		"":           "attachment",
		"report.pdf": "attachment; filename=report.pdf",
		"a b.txt":    `attachment; filename="a b.txt"`,
		"résumé.txt": "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt",
	} {
		if got := Attachment(in); got != want {
			t.Errorf("Attachment(%q) = %q, want %q", in, got, want)
		}
	}
}
