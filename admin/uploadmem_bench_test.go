package admin_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rpcbridge/rpcbridge/admin"
	"github.com/rpcbridge/rpcbridge/idl/store"
	"github.com/rpcbridge/rpcbridge/idl/upload"
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

// memResult is what a child process reports: its idle RSS just before the burst, the peak RSS
// during it (VmHWM after resetting it at the baseline), the bytes the Go heap allocated during
// the burst, and the status codes answered.
type memResult struct {
	IdleRSS, PeakRSS, Allocated int64
	Statuses                    map[int]int
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
	if _, err := os.Stat("/proc/self/clear_refs"); err != nil {
		b.Skip("needs Linux /proc/self/clear_refs to reset the peak RSS")
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
		b.Run(sc.Name, func(b *testing.B) {
			var peak, alloc, idle float64
			for range b.N {
				res := runMemScenario(b, sc)
				peak += float64(res.PeakRSS-res.IdleRSS) / (1 << 20)
				alloc += float64(res.Allocated) / (1 << 20)
				idle += float64(res.IdleRSS) / (1 << 20)
				b.Logf("%s: idle RSS %.1f MiB, peak %.1f MiB (+%.1f MiB), allocated %.1f MiB, statuses %v", sc.Name,
					float64(res.IdleRSS)/(1<<20), float64(res.PeakRSS)/(1<<20), float64(res.PeakRSS-res.IdleRSS)/(1<<20),
					float64(res.Allocated)/(1<<20), res.Statuses)
			}
			n := float64(b.N)
			b.ReportMetric(peak/n, "MiB-peak-RSS-over-idle")
			b.ReportMetric(alloc/n, "MiB-allocated")
			b.ReportMetric(idle/n, "MiB-idle-RSS")
		})
	}
}

// runMemScenario runs sc in a child process and decodes its result.
func runMemScenario(b *testing.B, sc memScenario) memResult {
	b.Helper()
	spec, err := json.Marshal(sc)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("scenario %s: %v", sc.Name, err)
	}
	var res memResult
	if err := json.Unmarshal(out, &res); err != nil {
		b.Fatalf("scenario %s: bad child output %q: %v", sc.Name, out, err)
	}
	return res
}

// runMemChild is the child process: it measures one scenario and prints a memResult as JSON.
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

	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fail(fmt.Errorf("reset peak RSS: %w", err))
	}
	idle, err := procStatusBytes("VmRSS")
	if err != nil {
		return fail(err)
	}
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	res := memResult{IdleRSS: idle, Statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range sc.Concurrent {
		wg.Go(func() {
			code := putUpload(srv.URL+"/api/v1/idl/u"+strconv.Itoa(i)+sc.Query, sc.ContentType, payload)
			mu.Lock()
			res.Statuses[code]++
			mu.Unlock()
		})
	}
	wg.Wait()

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	res.Allocated = int64(after.TotalAlloc - before.TotalAlloc)
	if res.PeakRSS, err = procStatusBytes("VmHWM"); err != nil {
		return fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
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

// procStatusBytes reads one "kB" field of /proc/self/status.
func procStatusBytes(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		return kb << 10, err
	}
	return 0, fmt.Errorf("/proc/self/status has no %s", field)
}
