package zookeeper

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/rpcbridge/rpcbridge/internal/bench/peakrss"
	zkpeer "github.com/rpcbridge/rpcbridge/internal/testpeers/zookeeper"
	"github.com/rpcbridge/rpcbridge/registries"
)

const benchProviders = 5

// syncChildEnv names the scenario a re-executed test binary runs instead of the tests (see
// TestMain): one source's first sync, measured by peakrss in a process of its own.
const syncChildEnv = "RPCBRIDGE_ZKSYNC_CHILD"

// syncScenario is what the child needs: the server the parent populated and its size.
type syncScenario struct {
	Addr       string
	Interfaces int
}

func benchIface(i int) string { return fmt.Sprintf("bench.Iface%06d", i) }

func benchProvider(i, p int) string {
	iface := benchIface(i)
	return url.QueryEscape(fmt.Sprintf("dubbo://10.%d.%d.%d:20880/%s?interface=%s&application=bench&methods=a,b,c"+
		"&version=1.0.0&side=provider&timestamp=%d", p, i/256%256, i%256, iface, iface, i))
}

// populate writes n interfaces with benchProviders providers each, in parallel batches of Multi
// creates.
func populate(b *testing.B, conn *zk.Conn, n int) {
	b.Helper()
	acl := zk.WorldACL(zk.PermAll)
	if _, err := conn.Create("/dubbo", nil, 0, acl); err != nil && err != zk.ErrNodeExists {
		b.Fatal(err)
	}
	const batch = 50
	jobs := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for start := range jobs {
				var ops []any
				for i := start; i < start+batch && i < n; i++ {
					base := "/dubbo/" + benchIface(i)
					ops = append(ops, &zk.CreateRequest{Path: base, Acl: acl},
						&zk.CreateRequest{Path: base + "/providers", Acl: acl})
					for p := range benchProviders {
						ops = append(ops, &zk.CreateRequest{Path: base + "/providers/" + benchProvider(i, p), Acl: acl})
					}
				}
				if _, err := conn.Multi(ops...); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for start := 0; start < n; start += batch {
		jobs <- start
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatalf("populate: %v", err)
	default:
	}
}

// BenchmarkSync10kInterfaces measures a source against 10,000 interfaces × 5 providers in a
// real ZooKeeper. "sync": the time to the first synced snapshot, the delay from one provider
// change to the snapshot that has it (including the debounce), and the peak RSS of the test
// process (with the writer that populated the server). "rss": the peak RSS of a process that
// only runs the source to its first synced snapshot (internal/bench/peakrss).
func BenchmarkSync10kInterfaces(b *testing.B) { benchSync(b, 10_000, zkpeer.Start(b)) }

// BenchmarkSync100kInterfaces is BenchmarkSync10kInterfaces with 100,000 interfaces × 5
// providers (populating the server takes about a minute; its heap is raised to 2 GiB).
func BenchmarkSync100kInterfaces(b *testing.B) {
	benchSync(b, 100_000, zkpeer.StartWithHeap(b, 2048))
}

func benchSync(b *testing.B, n int, server *zkpeer.Server) {
	w := newWriter(b, server.Addr())
	start := time.Now()
	populate(b, w.conn, n)
	b.Logf("populated %d interfaces × %d providers in %v", n, benchProviders, time.Since(start))
	b.Run("sync", func(b *testing.B) { benchFirstSyncAndChange(b, w, server.Addr(), n) })
	b.Run("rss", func(b *testing.B) {
		if err := peakrss.Supported(); err != nil {
			b.Skip(err)
		}
		peakrss.Bench(b, syncChildEnv, "first-sync", syncScenario{Addr: server.Addr(), Interfaces: n})
	})
}

func benchFirstSyncAndChange(b *testing.B, w *writer, addr string, n int) {
	changed := benchIface(n / 2)
	for i := 0; i < b.N; i++ {
		src, err := New("bench", Config{Servers: []string{addr}}, slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		synced := make(chan struct{})
		updated := make(chan struct{})
		var once1, once2 sync.Once
		publish := func(s registries.Snapshot) {
			if s.Synced && len(s.Services) >= n {
				once1.Do(func() { close(synced) })
			}
			for _, svc := range s.Services {
				if svc.Interface == changed && len(svc.Endpoints) == benchProviders+1 {
					once2.Do(func() { close(updated) })
				}
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- src.Run(ctx, publish) }()
		waitBench(b, synced, "first synced snapshot")
		firstSync := time.Since(start)

		path := "/dubbo/" + changed + "/providers/" + url.QueryEscape("dubbo://10.99.0."+strconv.Itoa(i)+":20880/"+changed+"?interface="+changed+"&version=1.0.0")
		start = time.Now()
		if _, err := w.conn.Create(path, nil, zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
			b.Fatal(err)
		}
		waitBench(b, updated, "the changed snapshot")
		change := time.Since(start)
		cancel()
		<-done
		if err := w.conn.Delete(path, -1); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(firstSync.Milliseconds()), "ms-first-sync")
		b.ReportMetric(float64(change.Milliseconds()), "ms-change")
	}
	b.ReportMetric(peakRSSMiB(b), "MiB-peak-rss")
}

// runSyncChild is the child process: it runs a source until its first synced snapshot under
// peakrss.Measure.
func runSyncChild(spec string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "zookeeper sync child:", err); return 1 }
	var sc syncScenario
	if err := json.Unmarshal([]byte(spec), &sc); err != nil {
		return fail(err)
	}
	src, err := New("bench", Config{Servers: []string{sc.Addr}}, slog.New(slog.DiscardHandler))
	if err != nil {
		return fail(err)
	}
	err = peakrss.Measure(1, func() int {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		synced := make(chan struct{})
		var once sync.Once
		done := make(chan error, 1)
		go func() {
			done <- src.Run(ctx, func(s registries.Snapshot) {
				if s.Synced && len(s.Services) >= sc.Interfaces {
					once.Do(func() { close(synced) })
				}
			})
		}()
		select {
		case <-synced:
			cancel()
			<-done
			return 200
		case err := <-done:
			fmt.Fprintln(os.Stderr, "zookeeper sync child: source ended:", err)
			return -1
		case <-time.After(5 * time.Minute):
			return -1
		}
	})
	if err != nil {
		return fail(err)
	}
	return 0
}

func waitBench(b *testing.B, ch <-chan struct{}, what string) {
	b.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Minute):
		b.Fatalf("gave up waiting for %s", what)
	}
}

// peakRSSMiB reads VmHWM from /proc/self/status.
func peakRSSMiB(b *testing.B) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
