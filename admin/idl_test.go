package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/idl/store"
)

// giveUp bounds every wait in these tests; it is never a pass criterion.
const giveUp = 20 * time.Second

const helloProto = `syntax = "proto3";
package hello.v1;
message Hello { string name = 1; }
`

// startAdmin serves the admin API over a real IDL store on loopback HTTP.
func startAdmin(t *testing.T, opts admin.Options, storeOpts store.Options) *httptest.Server {
	t.Helper()
	st, err := store.Open(t.TempDir(), storeOpts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Store = st
	srv := httptest.NewServer(admin.Handler(opts))
	t.Cleanup(srv.Close)
	return srv
}

// answer is an admin API answer: status, Retry-After and the error body's status word.
type answer struct {
	code       int
	retryAfter string
	status     string
	message    string
}

func put(t *testing.T, client *http.Client, url, contentType string, body io.Reader, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct{ Status, Message string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), status: e.Error.Status, message: e.Error.Message}
}

// heldBody is a request body whose first Read reports that it has begun and then waits for
// release before it yields the proto.
type heldBody struct {
	started, release chan struct{}
	rest             io.Reader
}

func (h *heldBody) Read(p []byte) (int, error) {
	if h.rest == nil {
		close(h.started)
		<-h.release
		h.rest = strings.NewReader(helloProto)
	}
	return h.rest.Read(p)
}

// TestUploadConcurrencyLimit holds MaxConcurrentUploads uploads in progress and checks that one
// more is answered 429 with Retry-After at once, and that the slot is usable again afterwards.
// The held upload sends "Expect: 100-continue", so its client reads the body only once the
// server's handler has begun reading it, that is after the handler took its slot.
func TestUploadConcurrencyLimit(t *testing.T) {
	srv := startAdmin(t, admin.Options{MaxConcurrentUploads: 1}, store.Options{})
	url := srv.URL + "/api/v1/idl/hello?kind=proto&filename=hello.proto"
	held := &heldBody{started: make(chan struct{}), release: make(chan struct{})}
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: giveUp}}
	first := make(chan answer, 1)
	go func() {
		first <- put(t, client, url, "text/plain", held, http.Header{"Expect": {"100-continue"}})
	}()
	select {
	case <-held.started:
	case <-time.After(giveUp):
		t.Fatal("the first upload's body was never read")
	}

	got := put(t, http.DefaultClient, url, "text/plain", strings.NewReader(helloProto), nil)
	if got.code != http.StatusTooManyRequests || got.retryAfter != "1" || got.status != "too_many_uploads" {
		t.Errorf("upload beyond the limit of 1: %+v, want 429 too_many_uploads with Retry-After 1", got)
	}

	close(held.release)
	if got := <-first; got.code != http.StatusOK {
		t.Fatalf("the held upload: %+v, want 200", got)
	}
	if got := put(t, http.DefaultClient, url, "text/plain", strings.NewReader(helloProto), nil); got.code != http.StatusOK {
		t.Fatalf("an upload after the held one finished: %+v, want 200", got)
	}
}

// TestUploadQuotaAnswers403 fills the store's quota and checks the answer to one more upload.
func TestUploadQuotaAnswers403(t *testing.T) {
	quota := len(helloProto) + 10
	srv := startAdmin(t, admin.Options{}, store.Options{QuotaBytes: int64(quota)})
	if got := put(t, http.DefaultClient, srv.URL+"/api/v1/idl/a?kind=proto&filename=a.proto", "text/plain", strings.NewReader(helloProto), nil); got.code != http.StatusOK {
		t.Fatalf("first upload: %+v", got)
	}
	got := put(t, http.DefaultClient, srv.URL+"/api/v1/idl/b?kind=proto&filename=b.proto", "text/plain", strings.NewReader(helloProto), nil)
	if want := fmt.Sprintf("quota of %d bytes", quota); got.code != http.StatusForbidden || got.status != "quota_exceeded" || !strings.Contains(got.message, want) {
		t.Fatalf("upload beyond the quota: %+v, want 403 quota_exceeded naming the %s", got, want)
	}
}

// TestUploadMultipartKeepsPaths uploads a form of two files in directories, one importing the
// other, and checks the limits and path rules answer for forms too.
func TestUploadMultipartKeepsPaths(t *testing.T) {
	srv := startAdmin(t, admin.Options{}, store.Options{})
	form := func(files map[string]string) (*bytes.Buffer, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for name, body := range files {
			fw, err := w.CreateFormFile("file", name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write([]byte(body))
		}
		_ = w.Close()
		return &b, w.FormDataContentType()
	}
	body, ctype := form(map[string]string{
		"hello/v1/hello.proto": helloProto,
		"app/v1/app.proto":     "syntax = \"proto3\";\npackage app.v1;\nimport \"hello/v1/hello.proto\";\nmessage App { hello.v1.Hello h = 1; }\n",
	})
	if got := put(t, http.DefaultClient, srv.URL+"/api/v1/idl/app?kind=proto", ctype, body, nil); got.code != http.StatusOK {
		t.Fatalf("form with an import between directories: %+v, want 200", got)
	}
	body, ctype = form(map[string]string{"../evil.proto": helloProto})
	if got := put(t, http.DefaultClient, srv.URL+"/api/v1/idl/evil?kind=proto", ctype, body, nil); got.code != http.StatusBadRequest {
		t.Fatalf("form with an escaping path: %+v, want 400", got)
	}
}
