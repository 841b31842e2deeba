package admin_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/idl/upload"
	"github.com/rpcbridge/rpcbridge/internal/bench/peakrss"
)

// childEnv names the scenario a re-executed test binary runs instead of the tests (see TestMain).
const childEnv = "RPCBRIDGE_UPLOADMEM_CHILD"

// memScenario is one burst of concurrent uploads measured in a process of its own.
type memScenario struct {
	Name        string // sub-benchmark name
	Payload     string // file holding the request body
	ContentType string
	Query       string // ?kind=... [&filename=...]
	Concurrent  int
	// MaxConcurrent is the admin API's MaxConcurrentUploads (0: its default).
	MaxConcurrent int
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(runMemChild(spec))
	}
	os.Exit(m.Run())
}

// BenchmarkUploadMemory measures what bursts of IDL uploads cost the admin API's process: each
// scenario runs in a fresh child process (the test binary re-executed), which starts the real
// admin handler over a real IDL store on loopback HTTP, lets itself settle, takes its idle RSS as
// the baseline, resets the kernel's peak-RSS mark (/proc/self/clear_refs), sends the uploads
// concurrently and reads the peak (VmHWM). A process of its own keeps earlier scenarios' heap out
// of the figure. Linux only. Run it with
//
//	go test ./admin -run '^$' -bench BenchmarkUploadMemory -benchtime 1x -count 3
func BenchmarkUploadMemory(b *testing.B) {
	if err := peakrss.Supported(); err != nil {
		b.Skip(err)
	}
	dir := b.TempDir()
	bomb := filepath.Join(dir, "bomb.zip")
	writeZeroBomb(b, bomb, 1<<30)
	liar := filepath.Join(dir, "liar.zip")
	writeLyingBomb(b, liar, 1<<30)
	entries := filepath.Join(dir, "entries.zip")
	writeDirectoryBomb(b, entries, upload.DefaultLimits().MaxUploadBytes)
	proto := filepath.Join(dir, "big.proto")
	writeBigProto(b, proto, 30<<20)
	for _, sc := range []memScenario{
		{Name: "bomb-1GiB-x1", Payload: bomb, ContentType: "application/zip", Query: "?kind=proto", Concurrent: 1},
		{Name: "bomb-1GiB-x8", Payload: bomb, ContentType: "application/zip", Query: "?kind=proto", Concurrent: 8},
		{Name: "bomb-1GiB-x8-limit8", Payload: bomb, ContentType: "application/zip", Query: "?kind=proto", Concurrent: 8, MaxConcurrent: 8},
		{Name: "lying-bomb-x1", Payload: liar, ContentType: "application/zip", Query: "?kind=proto", Concurrent: 1},
		{Name: "directory-700k-entries-x1", Payload: entries, ContentType: "application/zip", Query: "?kind=proto", Concurrent: 1},
		{Name: "proto-30MiB-x4", Payload: proto, ContentType: "text/plain", Query: "?kind=proto&filename=big.proto", Concurrent: 4},
		{Name: "proto-30MiB-x4-limit4", Payload: proto, ContentType: "text/plain", Query: "?kind=proto&filename=big.proto", Concurrent: 4, MaxConcurrent: 4},
	} {
		b.Run(sc.Name, func(b *testing.B) { peakrss.Bench(b, childEnv, sc.Name, sc) })
	}
}

// runMemChild is the child process: it sets one scenario up and measures it.
func runMemChild(spec string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "upload memory child:", err); return 1 }
	var sc memScenario
	if err := json.Unmarshal([]byte(spec), &sc); err != nil {
		return fail(err)
	}
	payload, err := os.ReadFile(sc.Payload)
	if err != nil {
		return fail(err)
	}
	dataDir, err := os.MkdirTemp("", "uploadmem-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dataDir)
	st, err := store.Open(dataDir, store.Options{})
	if err != nil {
		return fail(err)
	}
	srv := httptest.NewServer(admin.Handler(admin.Options{Store: st, Limits: upload.DefaultLimits(), MaxConcurrentUploads: sc.MaxConcurrent}))
	defer srv.Close()

	var seq atomic.Int64
	if err := peakrss.Measure(sc.Concurrent, func() int {
		i := seq.Add(1)
		return putUpload(srv.URL+"/api/v1/idl/u"+strconv.FormatInt(i, 10)+sc.Query, sc.ContentType, payload)
	}); err != nil {
		return fail(err)
	}
	return 0
}

// putUpload sends one upload and returns the status code, or -1 when the request failed.
func putUpload(url, contentType string, body []byte) int {
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return -1
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}
