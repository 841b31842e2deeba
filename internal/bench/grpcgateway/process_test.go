package grpcgateway_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The per-process CPU benchmark runs each gateway in a process of its own: the test binary run
// again with gatewayEnv naming the gateway and upstreamEnv the grpc-go server's address.
const (
	gatewayEnv  = "RPCBRIDGE_BENCH_GATEWAY"
	upstreamEnv = "RPCBRIDGE_BENCH_UPSTREAM"
	// profileDirEnv, when set, is a directory where each gateway process writes a CPU profile
	// (<gateway>.cpu.pprof) of its whole life.
	profileDirEnv = "RPCBRIDGE_BENCH_PROFILE_DIR"
	// listenPrefix starts the line a gateway process prints with its base URL.
	listenPrefix = "GATEWAY-LISTENS "
	// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on Linux).
	userHZ = 100
	// Per run, cpuRounds rounds of cpuPerRound requests for each gateway, in ABBA order.
	cpuRounds   = 4
	cpuPerRound = 5000
	cpuWarmUp   = 1000
)

// TestGatewayProcess is not a test of its own: BenchmarkProcessCPU runs the test binary with it
// to serve one gateway (gatewayEnv: "grpcgateway" or "rpcbridge", the latter with its xDS
// server in the same process) in front of upstreamEnv until its standard input closes.
func TestGatewayProcess(t *testing.T) {
	kind := os.Getenv(gatewayEnv)
	if kind == "" {
		t.Skip("a gateway process of BenchmarkProcessCPU")
	}
	upstream, err := net.ResolveTCPAddr("tcp", os.Getenv(upstreamEnv))
	if err != nil {
		t.Fatal(err)
	}
	var base string
	switch kind {
	case "grpcgateway":
		base = startGRPCGateway(t, upstream)
	case "rpcbridge":
		base = startEmbedded(t, upstream)
	default:
		t.Fatalf("%s=%q: want grpcgateway or rpcbridge", gatewayEnv, kind)
	}
	client := &http.Client{Timeout: giveUp}
	checkAnswers(t, client, base) // the embedded gateway's routes have arrived
	client.CloseIdleConnections()
	fmt.Printf("%s%s\n", listenPrefix, base)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// gatewayProcess is a running gateway process.
type gatewayProcess struct {
	name, base string
	cmd        *exec.Cmd
	stdin      io.Closer
}

// startGatewayProcess runs the test binary as the named gateway in front of upstream and waits
// for its base URL; the process ends with the benchmark.
func startGatewayProcess(tb testing.TB, name string, upstream *net.TCPAddr) *gatewayProcess {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	args := []string{"-test.run", "^TestGatewayProcess$", "-test.count", "1"}
	if dir := os.Getenv(profileDirEnv); dir != "" {
		args = append(args, "-test.cpuprofile", filepath.Join(dir, name+".cpu.pprof"))
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), gatewayEnv+"="+name, upstreamEnv+"="+upstream.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &gatewayProcess{name: name, cmd: cmd, stdin: stdin}
	done := make(chan struct{})
	tb.Cleanup(func() {
		_ = stdin.Close()
		<-done
		if err := cmd.Wait(); err != nil {
			tb.Errorf("%s process: %v", name, err)
		}
	})
	found := make(chan string, 1)
	go func() {
		defer close(done)
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if base, ok := strings.CutPrefix(lines.Text(), listenPrefix); ok {
				found <- base
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p.base = <-found:
	case <-time.After(2 * giveUp):
		tb.Fatalf("%s process did not start", name)
	}
	return p
}

// cpu is the CPU time the process has used so far (user + system), from /proc/<pid>/stat.
func (p *gatewayProcess) cpu(tb testing.TB) time.Duration {
	tb.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name (which is in parentheses and may hold spaces): state is
	// field 3, utime and stime are fields 14 and 15.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	fields := strings.Fields(rest)
	if len(fields) < 13 {
		tb.Fatalf("/proc/%d/stat: %q", p.cmd.Process.Pid, stat)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			tb.Fatalf("/proc/%d/stat: %v", p.cmd.Process.Pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ
}

// closedLoopN sends n requests of the load (GET and POST alternating) to base from the
// benchmark's workers, back to back, and returns the time taken.
func closedLoopN(tb testing.TB, client *http.Client, base string, n int) time.Duration {
	tb.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				if _, err := call(client, base, i%2 == 0); err != nil {
					tb.Errorf("%s: %v", base, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkProcessCPU measures the CPU each gateway spends per request with each in a process
// of its own (this test binary run again as TestGatewayProcess) in front of the same grpc-go
// server, the load generator (16 closed-loop clients, GET and POST alternating) and that server
// in this third process. CPU is the gateway process's utime + stime from /proc/<pid>/stat (10 ms
// ticks) over cpuRounds rounds of cpuPerRound requests per gateway in ABBA order, after a
// warm-up. The rpcbridge process holds its xDS server too, idle once the routes are delivered.
// With RPCBRIDGE_BENCH_PROFILE_DIR set, each gateway process writes a CPU profile there.
//
//	go test ./internal/bench/grpcgateway -run '^$' -bench ProcessCPU -benchtime 1x
func BenchmarkProcessCPU(b *testing.B) {
	upstream := startGRPC(b)
	procs := []*gatewayProcess{startGatewayProcess(b, "grpcgateway", upstream), startGatewayProcess(b, "rpcbridge", upstream)}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4 * workers, DisableCompression: true}, Timeout: giveUp}
	b.Cleanup(client.CloseIdleConnections)
	for _, p := range procs {
		checkAnswers(b, client, p.base)
		closedLoopN(b, client, p.base, cpuWarmUp)
	}
	b.ResetTimer()
	for range b.N {
		cpu := make([]time.Duration, len(procs))
		took := make([]time.Duration, len(procs))
		for r := range cpuRounds {
			for k := range procs {
				i := k
				if r%2 == 1 {
					i = len(procs) - 1 - k
				}
				before := procs[i].cpu(b)
				took[i] += closedLoopN(b, client, procs[i].base, cpuPerRound)
				cpu[i] += procs[i].cpu(b) - before
			}
		}
		requests := float64(cpuRounds * cpuPerRound)
		perRequest := make([]float64, len(procs))
		for i, p := range procs {
			perRequest[i] = float64(cpu[i].Microseconds()) / requests
			b.ReportMetric(perRequest[i], p.name+"_cpu_us/req")
			b.ReportMetric(requests/took[i].Seconds(), p.name+"_req/s")
		}
		b.ReportMetric(perRequest[1]/perRequest[0], "cpu_ratio")
	}
}
