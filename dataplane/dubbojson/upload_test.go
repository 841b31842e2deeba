package dubbojson

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/rpcbridge/rpcbridge/controlplane/ir"
	"github.com/rpcbridge/rpcbridge/dubborpc"
)

// uploadRoute is a route taking a file and other body arguments (limit: its upload limit).
func uploadRoute(t *testing.T, limit int64, params ...ir.DubboParam) *Route {
	t.Helper()
	r, err := NewRoute(Metadata{Route: ir.DubboRoute{Interface: "com.foo.Files", Method: "put", Params: params, Returns: "void"},
		JavaClasses: []ir.JavaClass{testClasses["com.foo.Level"]}, UploadLimit: limit}, "/files")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPrepareMultipart(t *testing.T) {
	r := uploadRoute(t, 1000,
		ir.DubboParam{Name: "data", Type: "byte[]", From: ir.FromBody, Key: "data"},
		ir.DubboParam{Name: "copies", Type: "int", From: ir.FromBody, Key: "copies"},
		ir.DubboParam{Name: "level", Type: "com.foo.Level", From: ir.FromBody, Key: "level"},
		ir.DubboParam{Name: "tags", Type: "java.util.List<java.lang.String>", From: ir.FromBody, Key: "tag"},
		ir.DubboParam{Name: "meta", Type: "java.util.Map<java.lang.String,java.lang.Integer>", From: ir.FromBody, Key: "meta"},
		ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromQuery, Key: "name"})
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("data", "a.bin")
	_, _ = fw.Write([]byte{0, 13, 10, '-', '-', 255})
	for _, kv := range [][2]string{{"copies", "3"}, {"level", "SILVER"}, {"tag", "a"}, {"tag", "b"}, {"meta", `{"x":1}`}} {
		_ = w.WriteField(kv[0], kv[1])
	}
	_ = w.Close()
	req := httptest.NewRequest("POST", "/files?name=n", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	call, err := r.Prepare(req)
	if err != nil {
		t.Fatal(err)
	}
	_, types, args := decodeArgs(t, call)
	if want := []string{"byte[]", "int", "com.foo.Level", "java.util.List", "java.util.Map", "java.lang.String"}; !reflect.DeepEqual(types, want) {
		t.Errorf("types = %v", types)
	}
	if got := fmt.Sprintf("%v", args); !strings.HasPrefix(got, "[[0 13 10 45 45 255] 3 ") || !strings.HasSuffix(got, " [a b] map[x:1] n]") {
		t.Errorf("args = %s", got)
	}
}

func TestPrepareRawBody(t *testing.T) {
	r := uploadRoute(t, 10, ir.DubboParam{Name: "data", Type: "byte[]", From: ir.FromWholeBody},
		ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromHeader, Key: "X-Name"})
	req := httptest.NewRequest("POST", "/files", strings.NewReader("\x00\x01raw"))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("X-Name", "n")
	call, err := r.Prepare(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, args := decodeArgs(t, call); fmt.Sprint(args) != "[[0 1 114 97 119] n]" {
		t.Errorf("args = %v", args)
	}
}

func TestPrepareUploadRefusals(t *testing.T) {
	two := uploadRoute(t, 100, ir.DubboParam{Name: "data", Type: "byte[]", From: ir.FromBody, Key: "data"},
		ir.DubboParam{Name: "name", Type: "java.lang.String", From: ir.FromBody, Key: "name"})
	big := strings.Repeat("x", 101)
	for name, c := range map[string]struct {
		contentType, body string
		chunked           bool
		status            int
		message           string
	}{
		"raw, two body arguments": {"application/octet-stream", "x", false, http.StatusUnsupportedMediaType, "more than one argument from the body"},
		"over the upload limit":   {"application/octet-stream", big, false, http.StatusRequestEntityTooLarge, "upload limit"},
		"over it, without length": {"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n" + big, true, http.StatusRequestEntityTooLarge, "upload limit"},
		"broken multipart":        {"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nx", false, http.StatusBadRequest, "malformed multipart/form-data body"},
		"missing form field":      {"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\nx\r\n--b--\r\n", false, http.StatusBadRequest, `argument name (java.lang.String, from body "name"): missing`},
	} {
		var body = strings.NewReader(c.body)
		req := httptest.NewRequest("POST", "/files", body)
		if c.chunked {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", c.contentType)
		_, err := two.Prepare(req)
		re, ok := err.(*RequestError)
		if !ok || re.Status != c.status || !strings.Contains(re.Message, c.message) {
			t.Errorf("%s: %v, want %d with %q", name, err, c.status, c.message)
		}
	}
	// A route without files reads JSON only, as before.
	plain, err := NewRoute(Metadata{Route: ir.DubboRoute{Interface: "com.foo.Files", Method: "put", Returns: "void",
		Params: []ir.DubboParam{{Name: "data", Type: "byte[]", From: ir.FromWholeBody}}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/files", strings.NewReader("raw"))
	req.Header.Set("Content-Type", "application/octet-stream")
	if _, err := plain.Prepare(req); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Errorf("raw body on a route without files: %v", err)
	}
}

func TestWriteDownload(t *testing.T) {
	meta := Metadata{Route: ir.DubboRoute{Interface: "com.foo.Files", Method: "get", Returns: "byte[]",
		Params:   []ir.DubboParam{{Name: "name", Type: "java.lang.String", From: ir.FromPath, Key: "name"}},
		Download: &ir.Download{ContentType: "application/pdf", Filename: "{name} é.pdf"}}}
	r, err := NewRoute(meta, "/files/{name}")
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range []any{[]byte{1, 2, 255}, []any{int32(1), int64(2), int32(-1)}} {
		rec := httptest.NewRecorder()
		if err := r.WriteResult(rec, httptest.NewRequest("GET", "/files/q%201", nil), dubborpc.Response{Value: value}); err != nil {
			t.Fatal(err)
		}
		h := rec.Header()
		if !bytes.Equal(rec.Body.Bytes(), []byte{1, 2, 255}) || h.Get("Content-Type") != "application/pdf" || h.Get("Content-Length") != "3" ||
			h.Get("Content-Disposition") != "attachment; filename*=utf-8''q%201%20%C3%A9.pdf" {
			t.Errorf("%T: %q %v", value, rec.Body.Bytes(), h)
		}
	}
	if err := r.WriteResult(httptest.NewRecorder(), httptest.NewRequest("GET", "/files/x", nil), dubborpc.Response{Value: "text"}); err == nil {
		t.Error("a string result of a byte[] method was written")
	}
	meta.Route.Download.Filename = "{nope}"
	if _, err := NewRoute(meta, "/files/{name}"); err == nil || !strings.Contains(err.Error(), "no variable {nope}") {
		t.Errorf("filename with an unknown variable: %v", err)
	}
	meta.Route.Returns = "java.lang.String"
	if _, err := NewRoute(meta, "/files/{name}"); err == nil || !strings.Contains(err.Error(), "not byte[]") {
		t.Errorf("download on a String method: %v", err)
	}
}
