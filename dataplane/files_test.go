package dataplane_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/dataplane/internal/filestore"
)

// TestFilesDubbo uploads and downloads files through REST→Dubbo routes end to end: rpcbridge's
// control plane, the embedded gateway, the real dubbo-go v3.3.2 provider's FileService. The
// uploads are larger than the listener's buffer limit and within the upload limit.
func TestFilesDubbo(t *testing.T) {
	s := startFilesStack(t)
	file := randomFile(t, 20<<10)
	want := fmt.Sprintf("%q", "report.bin "+filestore.Summary(file))

	ct, body := multipartBody(t, formPart{name: "name", data: []byte("report.bin")},
		formPart{name: "data", filename: "report.bin", contentType: "application/octet-stream", data: file})
	if r := s.do(t, "POST", uploadPath, ct, bytes.NewReader(body)); r.status != 200 || strings.TrimSpace(string(r.body)) != want {
		t.Errorf("multipart upload: %d %s, want 200 %s", r.status, r.body, want)
	}
	if r := s.do(t, "POST", "/dubbo/checksums", "application/octet-stream", bytes.NewReader(file)); r.status != 200 ||
		strings.TrimSpace(string(r.body)) != fmt.Sprintf("%q", filestore.Summary(file)) {
		t.Errorf("raw upload: %d %s", r.status, r.body)
	}
	// The whole-body byte[] of a multipart form is its first file part.
	ct, body = multipartBody(t, formPart{name: "anything", filename: "f", data: file[:100]})
	if r := s.do(t, "POST", "/dubbo/checksums", ct, bytes.NewReader(body)); r.status != 200 ||
		strings.TrimSpace(string(r.body)) != fmt.Sprintf("%q", filestore.Summary(file[:100])) {
		t.Errorf("multipart whole-body upload: %d %s", r.status, r.body)
	}
	small := []byte{0, 1, 2, 250, 255}
	jsonBody := fmt.Sprintf(`{"name":"j","data":%q}`, base64.StdEncoding.EncodeToString(small))
	if r := s.do(t, "POST", uploadPath, "application/json", strings.NewReader(jsonBody)); r.status != 200 ||
		strings.TrimSpace(string(r.body)) != fmt.Sprintf("%q", "j "+filestore.Summary(small)) {
		t.Errorf("JSON (base64) upload: %d %s", r.status, r.body)
	}

	r := s.do(t, "GET", "/dubbo/files/report?size=3000", "", nil)
	if r.status != 200 || !bytes.Equal(r.body, filestore.Pattern("report", 3000)) {
		t.Fatalf("download: %d, %d bytes (want the 3000-byte pattern): %.200q", r.status, len(r.body), r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/pdf" {
		t.Errorf("download Content-Type = %q", got)
	}
	if got := r.header.Get("Content-Disposition"); got != "attachment; filename=report.pdf" {
		t.Errorf("download Content-Disposition = %q", got)
	}
	r = s.do(t, "GET", "/dubbo/plain/x?size=10", "", nil)
	if r.status != 200 || !bytes.Equal(r.body, filestore.Pattern("x", 10)) || r.header.Get("Content-Type") != "application/octet-stream" ||
		r.header.Get("Content-Disposition") != "" {
		t.Errorf("download without a rule: %d %v %q", r.status, r.header, r.body)
	}

	checkRefusals(t, s, uploadPath, "/dubbo/checksums")
	// Still serving after every refusal.
	if r := s.do(t, "GET", "/dubbo/plain/after?size=5", "", nil); r.status != 200 {
		t.Errorf("after the refusals: %d %s", r.status, r.body)
	}
}

// TestFilesGRPC uploads and downloads files through REST→gRPC routes end to end: the control
// plane's transcoder configuration, the embedded gateway, a real grpc-go server (filestore).
func TestFilesGRPC(t *testing.T) {
	s := startFilesStack(t)
	file := randomFile(t, 20<<10)
	sum := strings.Fields(filestore.Summary(file))[1]
	received := func(what string, r response, want map[string]any) {
		t.Helper()
		var got map[string]any
		if r.status != 200 || json.Unmarshal(r.body, &got) != nil {
			t.Errorf("%s: %d %s", what, r.status, r.body)
			return
		}
		for k, v := range want {
			if fmt.Sprint(got[k]) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v, want %v (%s)", what, k, got[k], v, r.body)
			}
		}
	}
	size := fmt.Sprint(len(file))
	received("raw body into a bytes field", s.do(t, "POST", "/v1/files/a.bin", "application/octet-stream", bytes.NewReader(file)),
		map[string]any{"name": "a.bin", "size": size, "sha256": sum})
	ct, body := multipartBody(t, formPart{name: "upload", filename: "a.bin", data: file})
	received("multipart file part into the bytes body field", s.do(t, "POST", "/v1/files/b.bin", ct, bytes.NewReader(body)),
		map[string]any{"name": "b.bin", "size": size, "sha256": sum})
	ct, body = multipartBody(t, formPart{name: "name", data: []byte("c.bin")}, formPart{name: "note", data: []byte("quarterly")},
		formPart{name: "copies", data: []byte("3")}, formPart{name: "data", filename: "c.bin", data: file})
	received("multipart form into body *", s.do(t, "POST", "/v1/forms", ct, bytes.NewReader(body)),
		map[string]any{"name": "c.bin", "size": size, "sha256": sum, "note": "quarterly", "copies": 3})
	received("raw body into an HttpBody field", s.do(t, "PUT", "/v1/blobs/d.png", "image/png", bytes.NewReader(file)),
		map[string]any{"name": "d.png", "size": size, "sha256": sum, "contentType": "image/png"})
	received("raw body as the HttpBody request", s.do(t, "POST", "/v1/raw", "text/csv", bytes.NewReader(file)),
		map[string]any{"size": size, "sha256": sum, "contentType": "text/csv"})

	r := s.do(t, "GET", "/v1/files/e:get?size=2000", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "text/plain" || !bytes.Equal(r.body, filestore.Pattern("e", 2000)) {
		t.Errorf("unary HttpBody download: %d %q, %d bytes", r.status, r.header.Get("Content-Type"), len(r.body))
	}
	checkStreamedDownload(t, s)
	checkRefusals(t, s, "/v1/forms", "/v1/files/big.bin")
	ct, body = multipartBody(t, formPart{name: "nosuch", data: []byte("x")})
	if r := s.do(t, "POST", "/v1/forms", ct, bytes.NewReader(body)); r.status != 400 || !strings.Contains(string(r.body), `form field \"nosuch\"`) {
		t.Errorf("unknown form field: %d %s", r.status, r.body)
	}
	if r := s.do(t, "GET", "/v1/files/after:get?size=5", "", nil); r.status != 200 {
		t.Errorf("after the refusals: %d %s", r.status, r.body)
	}
}

// checkStreamedDownload reads the first chunk of a server-streamed HttpBody download while
// the server holds the rest back: the gateway wrote it as it arrived, not at the end.
func checkStreamedDownload(t *testing.T, s *filesStack) {
	t.Helper()
	resp, err := http.Get("http://" + s.addr + "/v1/files/" + filestore.HeldName + "?size=3000&chunk=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	want := filestore.Pattern(filestore.HeldName, 3000)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != filestore.DownloadType ||
		resp.Header.Get("Content-Disposition") != "attachment; filename=held.bin" {
		t.Fatalf("streamed download: %d %v", resp.StatusCode, resp.Header)
	}
	first := make([]byte, 1000)
	if _, err := io.ReadFull(resp.Body, first); err != nil || !bytes.Equal(first, want[:1000]) {
		t.Fatalf("first chunk before the server sent the rest: %v", err)
	}
	s.store.Release()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(rest, want[1000:]) {
		t.Fatalf("rest of the stream: %d bytes, %v", len(rest), err)
	}
	if got := resp.Trailer.Get("Grpc-Status"); got != "0" {
		t.Errorf("grpc-status trailer = %q", got)
	}
}

// checkRefusals sends what file routes refuse: an upload over the upload limit (413, with and
// without Content-Length) and broken multipart bodies (400), each answered with the gateway's
// JSON error.
func checkRefusals(t *testing.T, s *filesStack, formPath, rawPath string) {
	t.Helper()
	big := randomFile(t, filesUploadLimit+1)
	ct, body := multipartBody(t, formPart{name: "data", filename: "big.bin", data: big})
	for name, c := range map[string]struct {
		path, contentType string
		body              io.Reader
		status            int
		message           string
	}{
		"multipart over the limit":            {formPath, ct, bytes.NewReader(body), 413, "larger than"},
		"raw over the limit":                  {rawPath, "application/octet-stream", bytes.NewReader(big), 413, "larger than"},
		"raw over the limit, no length":       {rawPath, "application/octet-stream", io.MultiReader(bytes.NewReader(big)), 413, "larger than"},
		"multipart over the limit, no length": {formPath, ct, io.MultiReader(bytes.NewReader(body)), 413, "larger than"},
		"multipart without a boundary":        {formPath, "multipart/form-data", strings.NewReader("--x\r\n"), 400, "no boundary"},
		"multipart with another boundary":     {formPath, "multipart/form-data; boundary=zzz", bytes.NewReader(body[:100]), 400, "malformed multipart/form-data"},
		"multipart cut short":                 {formPath, ct, bytes.NewReader(body[:300]), 400, "malformed multipart/form-data"},
		"multipart part without a form name":  {formPath, "multipart/form-data; boundary=b", strings.NewReader("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"), 400, "no form-data name"},
	} {
		r := s.do(t, "POST", c.path, c.contentType, c.body)
		var e struct {
			Error struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if r.status != c.status || json.Unmarshal(r.body, &e) != nil || e.Error.Code != c.status || !strings.Contains(e.Error.Message, c.message) {
			t.Errorf("%s (%s): %d %s, want %d with %q", name, c.path, r.status, r.body, c.status, c.message)
		}
	}
}

// TestFilesGRPCStreamedUpload sends a body to a client-streaming google.api.HttpBody method:
// the gateway sends it as it arrives (the server has the first piece while the client still
// holds the rest back), in pieces of at most 1 MiB, and bounds it by neither the buffer limit
// nor the upload limit, as Envoy's transcoder does; a real grpc-go server receives it.
func TestFilesGRPCStreamedUpload(t *testing.T) {
	s := startFilesStack(t)
	head, tail := randomFile(t, 100<<10), randomFile(t, 2<<20+1)
	pr, pw := io.Pipe()
	type answer struct {
		r   response
		err error
	}
	done := make(chan answer, 1)
	go func() {
		req, err := http.NewRequest("POST", "http://"+s.addr+"/v1/streams", pr)
		if err != nil {
			done <- answer{err: err}
			return
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- answer{r: response{status: resp.StatusCode, header: resp.Header, body: b}, err: err}
	}()
	if _, err := pw.Write(head); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.store.FirstPiece():
	case a := <-done:
		t.Fatalf("the call ended before the body did: %+v", a)
	case <-time.After(giveUp):
		t.Fatal("the server got no piece of the body while the client held the rest back: the gateway buffers it")
	}
	if _, err := pw.Write(tail); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	a := <-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	var got struct {
		Size, Sha256, ContentType string
		Messages                  int
	}
	all := append(append([]byte{}, head...), tail...)
	if a.r.status != 200 || json.Unmarshal(a.r.body, &got) != nil {
		t.Fatalf("streamed upload: %d %s", a.r.status, a.r.body)
	}
	if want := strings.Fields(filestore.Summary(all)); got.Size != want[0] || got.Sha256 != want[1] || got.ContentType != "application/x-ndjson" {
		t.Errorf("streamed upload received %+v, want %v", got, want)
	}
	if got.Messages < 3 {
		t.Errorf("%d bytes came in %d messages; pieces of at most 1 MiB make at least 3", len(all), got.Messages)
	}
}
