package grpcweb

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestConvertRequest: a -text request is decoded (padded quanta may follow each other) and goes
// upstream as application/grpc with te: trailers; a body that is not base64 is refused.
func TestConvertRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "/pkg.Svc/M", strings.NewReader("AAAAAAE=CA=="))
	r.Header.Set("Content-Type", "application/grpc-web-text")
	r.Header.Set("Content-Length", "12")
	_, out, _, err := Convert(httptest.NewRecorder(), r, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	if !bytes.Equal(body, []byte{0, 0, 0, 0, 1, 8}) || out.Header.Get("Content-Type") != "application/grpc" ||
		out.Header.Get("Te") != "trailers" || out.Header.Get("Content-Length") != "" {
		t.Errorf("body %v, headers %v", body, out.Header)
	}
	for _, bad := range []string{"AAA", "!!!!"} {
		r := httptest.NewRequest("POST", "/pkg.Svc/M", strings.NewReader(bad))
		r.Header.Set("Content-Type", "application/grpc-web-text+proto")
		var re *RequestError
		if _, _, _, err := Convert(httptest.NewRecorder(), r, 1<<20); !errors.As(err, &re) || re.Status != 400 {
			t.Errorf("%q: %v, want a 400", bad, err)
		}
	}
	r = httptest.NewRequest("POST", "/pkg.Svc/M", strings.NewReader(strings.Repeat("A", 8)))
	r.Header.Set("Content-Type", "application/grpc-web-text")
	var re *RequestError
	if _, _, _, err := Convert(httptest.NewRecorder(), r, 4); !errors.As(err, &re) || re.Status != 413 {
		t.Errorf("over the limit: %v, want a 413", err)
	}
}

// TestResponse: the gRPC response's trailers (announced or not) become the trailer frame; a
// -text response is base64; a non-gRPC answer becomes a trailers-only status.
func TestResponse(t *testing.T) {
	for _, text := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/pkg.Svc/M", nil)
		r.Header.Set("Content-Type", "application/grpc-web+proto")
		if text {
			r.Header.Set("Accept", "application/grpc-web-text")
		}
		rec := httptest.NewRecorder()
		w, _, finish, err := Convert(rec, r, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		w.WriteHeader(200)
		_, _ = w.Write([]byte{0, 0, 0, 0, 1, 7})
		w.Header().Set("Grpc-Status", "0")
		w.Header().Set(http.TrailerPrefix+"X-Served-By", "s")
		finish()
		want := append([]byte{0, 0, 0, 0, 1, 7}, TrailerFrame(http.Header{"Grpc-Status": {"0"}, "X-Served-By": {"s"}})...)
		got := rec.Body.Bytes()
		if text {
			got = mustDecode(t, got)
		}
		ct := rec.Header().Get("Content-Type")
		if !bytes.Equal(got, want) || (text && ct != contentTypeWebTextProto) || (!text && ct != contentTypeWebProto) || rec.Header().Get("Trailer") != "" {
			t.Errorf("text=%v: %q %q, want %q", text, ct, got, want)
		}
	}
	if got := string(TrailerFrame(http.Header{"Grpc-Status": {"0"}, "Grpc-Message": {"ok"}})[5:]); got != "grpc-message:ok\r\ngrpc-status:0\r\n" {
		t.Errorf("trailer block %q", got)
	}

	r := httptest.NewRequest("POST", "/pkg.Svc/M", nil)
	r.Header.Set("Content-Type", "application/grpc-web")
	rec := httptest.NewRecorder()
	w, _, finish, _ := Convert(rec, r, 1<<20)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(503)
	_, _ = w.Write([]byte(`no healthy upstream`))
	finish()
	if rec.Code != 200 || rec.Header().Get("Grpc-Status") != "14" || rec.Header().Get("Grpc-Message") != "no%20healthy%20upstream" || rec.Body.Len() != 0 {
		t.Errorf("non-gRPC 503: %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
}

func mustDecode(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := decodeText(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
